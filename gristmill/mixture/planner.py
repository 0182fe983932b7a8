"""Plan the mixture: how many tokens of each source, which documents, and where they go.

Weights are shares of tokens. A token budget (or, with ``total_tokens: null``, the
scarcest source used once) gives each source an integer target; a source that cannot
reach it within ``max_epochs`` stops the plan with an error naming it, unless
``on_shortfall`` says otherwise (``reweight``: cap it at ``max_epochs`` and share the rest
of the budget among the others by weight, repeatedly while another one hits its cap;
``repeat``: exceed ``max_epochs``). The target is
met to the token: whole epochs (every document once, each epoch in its own seeded order)
and then documents in a seeded order, the last one cut where the target is reached. A
source's share is therefore exact whatever its document sizes, also when one book holds
more tokens than the source's whole target.

Each source's documents are packed into rows of their own (back to back, or a document
that does not fit starts a new row and the rest is padding), so long documents are cut
only where the rows cut them anyway — the row boundaries — and every row holds one
source, as in Megatron-LM's blended datasets (Shoeybi et al., 2019). The sources' rows are
then interleaved by *progress*: each row gets the key ``(tokens of its source before it +
half its tokens) / source total`` and rows are merged by key, so at any point of the
stream each source has delivered its share give or take half a row: every prefix of the
shards respects the mixture. The plan lists *pieces* — the part of one document inside one
row — with their document, offset in the document, length and position in the stream.
"""

from __future__ import annotations

import warnings
import zlib
from dataclasses import asdict, dataclass, field

import numpy as np

from gristmill.mixture.weights import MixtureError

WEIGHT_TOLERANCE = 0.005  # realised vs configured share beyond this is flagged
SHORTFALL_POLICIES = ("error", "reweight", "repeat")


@dataclass(frozen=True)
class SourceTokens:
    """One source's token shards and their per-document token counts (file order)."""

    name: str
    files: tuple[str, ...]
    doc_counts: tuple[int, ...]
    n_tokens: np.ndarray

    @property
    def tokens(self) -> int:
        return int(self.n_tokens.sum())


@dataclass
class SourcePlan:
    name: str
    weight: float  # the configured share (normalised over the sources used)
    docs: int
    tokens_available: int
    target_tokens: int
    epochs: float
    whole_epochs: int
    fraction_docs: int  # documents of the sample after the whole epochs (the last may be cut)
    cut_tokens: int = 0  # tokens of the last sampled document left out to meet the target
    rows: int = 0
    tokens_taken: int = 0
    realised_weight: float = 0.0
    deviation: float = 0.0  # realised_weight - weight
    note: str = ""  # why the realised share differs from the weight (a shortfall policy)


@dataclass
class MixturePlan:
    """The per-source plan and, per piece in stream order, where it comes from and goes."""

    budget_tokens: int
    sources: list[SourcePlan]
    source: np.ndarray  # int16: index into ``sources``
    doc: np.ndarray  # int64: document index within its source
    offset: np.ndarray  # int64: first token of the piece within its document
    n_tokens: np.ndarray  # int64
    position: np.ndarray  # int64: first token of the piece in the stream
    row_length: int
    rows: int
    padding_tokens: int
    warnings: list[str] = field(default_factory=list)

    @property
    def max_deviation(self) -> float:
        return max((abs(plan.deviation) for plan in self.sources), default=0.0)

    def summary(self) -> dict:
        return {
            "budget_tokens": self.budget_tokens,
            "tokens": int(self.n_tokens.sum()),
            "pieces": int(self.n_tokens.size),
            "rows": self.rows,
            "row_length": self.row_length,
            "padding_tokens": self.padding_tokens,
            "weight_tolerance": WEIGHT_TOLERANCE,
            "max_deviation": round(self.max_deviation, 6),
            "sources": {plan.name: _rounded(asdict(plan)) for plan in self.sources},
            "warnings": list(self.warnings),
        }


def plan_mixture(
    sources: list[SourceTokens],
    weights: dict[str, float],
    total_tokens: int | None,
    max_epochs: float,
    on_shortfall: str,
    seed: int,
    row_length: int,
    documents_cross_rows: bool = True,
) -> MixturePlan:
    """Per-source targets, samples and rows, interleaved into one stream of pieces."""
    if on_shortfall not in SHORTFALL_POLICIES:
        raise ValueError(f"on_shortfall {on_shortfall!r}; allowed: {SHORTFALL_POLICIES}")
    used = [s for s in sources if weights.get(s.name, 0.0) > 0]
    if not used:
        raise MixtureError("no source has a positive mixture weight")
    empty = [s.name for s in used if s.tokens == 0]
    if empty and on_shortfall != "reweight":
        raise MixtureError(
            f"sources {empty} have a mixture weight but no tokens (or set "
            "mixture.on_shortfall: reweight to give their share to the others)"
        )
    total_weight = sum(weights[s.name] for s in used)
    share = {s.name: weights[s.name] / total_weight for s in used}
    available = {s.name: s.tokens for s in used}
    targets, notes = token_targets(available, share, total_tokens, max_epochs, on_shortfall)
    for note in notes.values():
        warnings.warn(note, stacklevel=2)

    plans: list[SourcePlan] = []
    packed: list[_PackedSource] = []
    for s in sources:
        target = targets.get(s.name, 0)
        lengths, docs, plan = _source_sample(s, target, share.get(s.name, 0.0), seed)
        plan.note = notes.get(s.name, "")
        plans.append(plan)
        packed.append(_pack(docs, lengths, row_length, documents_cross_rows))
    taken = sum(plan.target_tokens for plan in plans)
    for plan in plans:
        plan.tokens_taken = plan.target_tokens
        plan.realised_weight = plan.tokens_taken / taken if taken else 0.0
        plan.deviation = plan.realised_weight - plan.weight
    for plan, rows in zip(plans, packed, strict=True):
        plan.rows = rows.rows
    problems = [plan.note for plan in plans if plan.note]
    return _interleave(packed, plans, row_length, round(sum(targets.values())), problems)


def token_targets(
    available: dict[str, int],
    share: dict[str, float],
    total_tokens: int | None,
    max_epochs: float,
    on_shortfall: str,
) -> tuple[dict[str, int], dict[str, str]]:
    """Integer token targets per source, and a note for each source a policy changed.

    ``total_tokens=None`` uses the scarcest source once; otherwise a source needing more
    than ``max_epochs x`` its tokens is a shortfall: an error, or handled by the policy.
    """
    if total_tokens is None:
        positive = [name for name in share if available[name] > 0]
        budget = min(available[name] / share[name] for name in positive) if positive else 0.0
    else:
        budget = float(total_tokens)
    capacity = {name: max_epochs * available[name] for name in share}
    short = [name for name in share if share[name] * budget > capacity[name] * (1 + 1e-9)]
    notes: dict[str, str] = {}
    if short and on_shortfall == "error":
        raise MixtureError("; ".join(_shortfall(name, available, share, budget, max_epochs)
                                     for name in short)
                           + ". Lower the weight or the budget, add data, raise "
                           "mixture.max_epochs, or set mixture.on_shortfall: reweight "
                           "(give the missing share to the other sources) or repeat "
                           "(exceed max_epochs)")  # fmt: skip
    exact = {name: share[name] * budget for name in share}
    if short and on_shortfall == "repeat":
        for name in short:
            notes[name] = _shortfall(name, available, share, budget, max_epochs) + (
                "; repeated anyway (mixture.on_shortfall: repeat)"
            )
    elif short:  # reweight: cap the short sources, share the rest by weight (water-filling)
        fixed: dict[str, float] = {}
        remaining = budget
        free = set(share)
        while free:
            free_share = sum(share[name] for name in free)
            over = {n for n in free if share[n] / free_share * remaining > capacity[n] * (1 + 1e-9)}
            if not over:
                break
            for name in over:
                fixed[name] = capacity[name]
                remaining -= capacity[name]
            free -= over
        free_share = sum(share[name] for name in free)
        exact = {
            name: fixed[name] if name in fixed else share[name] / free_share * remaining
            for name in share
        }
        total = sum(exact.values())
        for name in fixed:
            notes[name] = (
                _shortfall(name, available, share, budget, max_epochs)
                + f"; capped at {max_epochs:g} epochs, its share is {fixed[name] / total:.4f} "
                "and the other sources were reweighted (mixture.on_shortfall: reweight)"
            )
        if not free:
            notes[next(iter(fixed))] += f"; the budget shrinks to {total:,.0f} tokens"
    return _round_preserving_sum(exact), notes


def _shortfall(name, available, share, budget, max_epochs) -> str:
    needed = share[name] * budget
    epochs = needed / available[name] if available[name] else float("inf")
    return (
        f"mixture: source {name!r} has {available[name]:,} tokens but needs {needed:,.0f} "
        f"(weight {share[name]:.4f} of {budget:,.0f}), which would take {epochs:.2f} epochs, "
        f"more than mixture.max_epochs = {max_epochs:g}"
    )


def _round_preserving_sum(exact: dict[str, float]) -> dict[str, int]:
    """Largest-remainder rounding: integers whose sum is the rounded total."""
    floors = {name: int(np.floor(value)) for name, value in exact.items()}
    missing = round(sum(exact.values())) - sum(floors.values())
    by_remainder = sorted(exact, key=lambda name: floors[name] - exact[name])
    for name in by_remainder[: max(0, missing)]:
        floors[name] += 1
    return floors


def _source_sample(
    s: SourceTokens, target: int, weight: float, seed: int
) -> tuple[np.ndarray, np.ndarray, SourcePlan]:
    """Document lengths and indices of one source in stream order, exactly ``target`` tokens:
    whole epochs in seeded orders, then documents in a seeded order, the last one cut."""
    rng = np.random.default_rng([seed, zlib.crc32(s.name.encode("utf-8"))])
    whole = int(target // s.tokens) if s.tokens else 0
    parts = [rng.permutation(s.n_tokens.size) for _ in range(whole)]
    rest = target - whole * s.tokens
    count = cut = 0
    if rest > 0:
        order = rng.permutation(s.n_tokens.size)
        reached = np.cumsum(s.n_tokens[order])
        count = int(np.searchsorted(reached, rest, side="left")) + 1  # the first k reaching it
        cut = int(reached[count - 1] - rest)
        parts.append(order[:count])
    docs = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
    lengths = s.n_tokens[docs].astype(np.int64)
    if cut:
        lengths[-1] -= cut
    plan = SourcePlan(
        name=s.name,
        weight=weight,
        docs=int(s.n_tokens.size),
        tokens_available=s.tokens,
        target_tokens=int(target),
        epochs=target / s.tokens if s.tokens else 0.0,
        whole_epochs=whole,
        fraction_docs=count,
        cut_tokens=cut,
    )
    return lengths, docs, plan


@dataclass
class _PackedSource:
    """One source's pieces in its own rows (local positions) and each row's tokens."""

    doc: np.ndarray
    offset: np.ndarray
    n_tokens: np.ndarray
    local_position: np.ndarray
    row_tokens: np.ndarray

    @property
    def rows(self) -> int:
        return int(self.row_tokens.size)


def _pack(
    docs: np.ndarray, lengths: np.ndarray, row_length: int, cross_rows: bool
) -> _PackedSource:
    """Place the documents in rows of ``row_length`` and cut them at the row boundaries."""
    keep = lengths > 0
    docs, lengths = docs[keep], lengths[keep]
    if cross_rows:
        position = np.cumsum(lengths) - lengths
    else:  # a document that does not fit in the rest of the row starts the next row
        position = np.empty(lengths.size, dtype=np.int64)
        cursor = 0
        for index, size in enumerate(lengths.tolist()):
            used = cursor % row_length
            if used and size > row_length - used:
                cursor += row_length - used
            position[index] = cursor
            cursor += size
    first_row = position // row_length
    pieces_per_doc = (position + lengths - 1) // row_length - first_row + 1
    owner = np.repeat(np.arange(lengths.size), pieces_per_doc)
    within = np.arange(owner.size) - np.repeat(np.cumsum(pieces_per_doc) - pieces_per_doc,
                                               pieces_per_doc)  # fmt: skip
    row = first_row[owner] + within
    start = np.maximum(position[owner], row * row_length)
    stop = np.minimum(position[owner] + lengths[owner], (row + 1) * row_length)
    rows = int(row[-1]) + 1 if row.size else 0
    return _PackedSource(
        doc=docs[owner],
        offset=start - position[owner],
        n_tokens=stop - start,
        local_position=start,
        row_tokens=np.bincount(row, weights=stop - start, minlength=rows).astype(np.int64),
    )


def _interleave(
    packed: list[_PackedSource],
    plans: list[SourcePlan],
    row_length: int,
    budget: int,
    problems: list[str],
) -> MixturePlan:
    """Merge the sources' rows by progress and give every piece its stream position."""
    keys, owners = [], []
    for index, rows in enumerate(packed):
        if not rows.rows:
            continue
        before = np.cumsum(rows.row_tokens) - rows.row_tokens
        keys.append((before + rows.row_tokens / 2) / rows.row_tokens.sum())
        owners.append(np.full(rows.rows, index, dtype=np.int16))
    if not keys:
        raise MixtureError("the mixture plan has no tokens (every target is 0)")
    key, owner = np.concatenate(keys), np.concatenate(owners)
    order = np.lexsort((owner, key))
    global_row = np.empty(order.size, dtype=np.int64)
    global_row[order] = np.arange(order.size)
    columns: dict[str, list[np.ndarray]] = {k: [] for k in ("source", "doc", "offset", "n", "pos")}
    first = 0
    for index, rows in enumerate(packed):
        if not rows.rows:
            continue
        mine = global_row[first : first + rows.rows]
        first += rows.rows
        local_row = rows.local_position // row_length
        columns["pos"].append(mine[local_row] * row_length + rows.local_position % row_length)
        columns["source"].append(np.full(rows.doc.size, index, dtype=np.int16))
        columns["doc"].append(rows.doc)
        columns["offset"].append(rows.offset)
        columns["n"].append(rows.n_tokens)
    position = np.concatenate(columns["pos"])
    by_position = np.argsort(position, kind="stable")
    n_tokens = np.concatenate(columns["n"])[by_position]
    total_rows = int(order.size)
    return MixturePlan(
        budget_tokens=budget,
        sources=plans,
        source=np.concatenate(columns["source"])[by_position],
        doc=np.concatenate(columns["doc"])[by_position],
        offset=np.concatenate(columns["offset"])[by_position].astype(np.int64),
        n_tokens=n_tokens.astype(np.int64),
        position=position[by_position].astype(np.int64),
        row_length=row_length,
        rows=total_rows,
        padding_tokens=total_rows * row_length - int(n_tokens.sum()),
        warnings=problems,
    )


def _rounded(values: dict) -> dict:
    return {k: round(v, 6) + 0.0 if isinstance(v, float) else v for k, v in values.items()}
