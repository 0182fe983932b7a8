"""Plan the mixture: which documents, how many times, in what order, at which position.

From each source's per-document token counts and its weight, a token budget gives each
source a target; ``target / available`` is its number of epochs, taken as whole epochs
(every document once, each epoch in its own seeded order) plus a seeded fractional
sample (documents in a seeded random order until the target is nearest). Weights are by
tokens, the sampling is seeded and the result is exact to within one document per source
(NeMo Curator blends by document count; Dolma samples unseeded).

Sources are then interleaved by *progress*: every document instance gets the key
``(tokens of its source before it + half its length) / source total``, and all instances
are merged by key. At any point of the stream each source has delivered its share of the
tokens give or take half a document, so every prefix of the output respects the mixture.
Finally each instance gets its position in the token stream: back to back (documents
cross row boundaries), or moved to the next row when it does not fit (with padding).
"""

from __future__ import annotations

import warnings
import zlib
from dataclasses import asdict, dataclass, field

import numpy as np

from gristmill.mixture.weights import MixtureError


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
    weight: float
    docs: int
    tokens_available: int
    target_tokens: int
    epochs: float
    whole_epochs: int
    fraction_docs: int
    tokens_taken: int = 0
    realised_weight: float = 0.0


@dataclass
class MixturePlan:
    """The per-source plan and, per document instance in stream order, where it goes."""

    budget_tokens: int
    sources: list[SourcePlan]
    source: np.ndarray  # int16: index into ``sources``
    doc: np.ndarray  # int64: document index within its source
    n_tokens: np.ndarray  # int64
    position: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    row_length: int = 0
    rows: int = 0
    padding_tokens: int = 0
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "budget_tokens": self.budget_tokens,
            "tokens": int(self.n_tokens.sum()),
            "document_instances": int(self.n_tokens.size),
            "rows": self.rows,
            "row_length": self.row_length,
            "padding_tokens": self.padding_tokens,
            "sources": {plan.name: _rounded(asdict(plan)) for plan in self.sources},
            "warnings": list(self.warnings),
        }


def plan_mixture(
    sources: list[SourceTokens],
    weights: dict[str, float],
    total_tokens: int | None,
    max_epochs: float,
    on_exceed: str,
    seed: int,
) -> MixturePlan:
    """Per-source epochs and samples, interleaved into one stream (positions not yet set)."""
    used = [s for s in sources if weights.get(s.name, 0.0) > 0]
    if not used:
        raise MixtureError("no source has a positive mixture weight")
    empty = [s.name for s in used if s.tokens == 0]
    if empty:
        raise MixtureError(f"sources {empty} have a mixture weight but no tokens")
    total_weight = sum(weights[s.name] for s in used)
    share = {s.name: weights[s.name] / total_weight for s in used}
    if total_tokens is None:  # everything at the weights: the scarcest source is used once
        scarcest = min(used, key=lambda s: s.tokens / share[s.name])
        exact_budget = scarcest.tokens / share[scarcest.name]
    else:
        scarcest, exact_budget = None, float(total_tokens)
    budget = round(exact_budget)

    plans: list[SourcePlan] = []
    sequences: list[np.ndarray] = []
    problems: list[str] = []
    for s in sources:
        target = s.tokens if s is scarcest else round(share.get(s.name, 0.0) * exact_budget)
        epochs = target / s.tokens if s.tokens else 0.0
        if epochs > max_epochs * (1 + 1e-9):
            problems.append(
                f"source {s.name!r} would be repeated {epochs:.2f} times, more than "
                f"mixture.max_epochs = {max_epochs:g} ({s.tokens:,} tokens available, "
                f"{target:,} wanted)"
            )
        sequence, whole, fraction_docs = _source_sequence(s, target, seed)
        plans.append(
            SourcePlan(
                name=s.name,
                weight=share.get(s.name, 0.0),
                docs=int(s.n_tokens.size),
                tokens_available=s.tokens,
                target_tokens=target,
                epochs=epochs,
                whole_epochs=whole,
                fraction_docs=fraction_docs,
                tokens_taken=int(s.n_tokens[sequence].sum()),
            )
        )
        sequences.append(sequence)
    if problems and on_exceed == "error":
        raise MixtureError("; ".join(problems) + " (set mixture.on_exceed: warn to allow)")
    for problem in problems:
        warnings.warn(problem, stacklevel=2)
    taken = sum(plan.tokens_taken for plan in plans)
    for plan in plans:
        plan.realised_weight = plan.tokens_taken / taken if taken else 0.0
    source, doc, n_tokens = interleave([s.n_tokens for s in sources], sequences)
    return MixturePlan(budget, plans, source, doc, n_tokens, warnings=problems)


def _source_sequence(s: SourceTokens, target: int, seed: int) -> tuple[np.ndarray, int, int]:
    """Document indices of one source in stream order: whole epochs, then a sample."""
    rng = np.random.default_rng([seed, zlib.crc32(s.name.encode("utf-8"))])
    if target <= 0 or s.tokens == 0:
        return np.zeros(0, dtype=np.int64), 0, 0
    whole = int(target // s.tokens)
    parts = [rng.permutation(s.n_tokens.size) for _ in range(whole)]
    rest = target - whole * s.tokens
    order = rng.permutation(s.n_tokens.size)
    reached = np.concatenate([[0], np.cumsum(s.n_tokens[order])])  # tokens of k first docs
    count = int(np.searchsorted(reached, rest))  # the first k reaching ``rest``
    if count > 0 and (count == reached.size or rest - reached[count - 1] <= reached[count] - rest):
        count -= 1  # the shorter sample is at least as near
    parts.append(order[:count])
    return np.concatenate(parts).astype(np.int64), whole, count


def interleave(
    lengths: list[np.ndarray], sequences: list[np.ndarray]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge the sources' sequences by progress; returns (source, doc, n_tokens)."""
    keys, sources, docs, sizes = [], [], [], []
    for index, (n_tokens, sequence) in enumerate(zip(lengths, sequences, strict=True)):
        if sequence.size == 0:
            continue
        size = n_tokens[sequence].astype(np.int64)
        before = np.cumsum(size) - size
        keys.append((before + size / 2) / size.sum())
        sources.append(np.full(sequence.size, index, dtype=np.int16))
        docs.append(sequence)
        sizes.append(size)
    if not keys:
        empty = np.zeros(0, dtype=np.int64)
        return empty.astype(np.int16), empty, empty
    key = np.concatenate(keys)
    source = np.concatenate(sources)
    order = np.lexsort((source, key))
    return source[order], np.concatenate(docs)[order], np.concatenate(sizes)[order]


def layout(plan: MixturePlan, row_length: int, documents_cross_rows: bool) -> None:
    """Set each instance's start position in the token stream, the rows and the padding."""
    n_tokens = plan.n_tokens
    if documents_cross_rows:
        position = np.cumsum(n_tokens) - n_tokens
        end = int(n_tokens.sum())
    else:
        position = np.empty(n_tokens.size, dtype=np.int64)
        cursor = 0
        for index, size in enumerate(n_tokens.tolist()):
            used = cursor % row_length
            if used and size > row_length - used:
                cursor += row_length - used
            position[index] = cursor
            cursor += size
        end = cursor
    plan.position = position.astype(np.int64)
    plan.row_length = row_length
    plan.rows = -(-end // row_length)
    plan.padding_tokens = plan.rows * row_length - int(n_tokens.sum())


def _rounded(values: dict) -> dict:
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in values.items()}
