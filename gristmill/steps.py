"""The step contracts: :class:`Filter`, :class:`Transform` and :class:`GlobalStep`.

A step is a frozen pydantic model: its fields are its YAML block, its repr is its
configuration, and ``model_dump()`` rebuilds it (the scikit-learn convention). Models a step
needs are loaded lazily, once per worker process, never pickled into tasks.

- A :class:`Filter` *measures* signals (typed columns ``<step>_<signal>``) and *decides*
  from them (Dolma's taggers/mixer split, inside one pass).
- A :class:`Transform` rewrites text and may drop documents that end up empty.
- A :class:`GlobalStep` needs every shard: ``collect`` (per shard signatures) →
  ``resolve`` (Dask shuffle/groupby over all signatures) → ``apply`` (per shard).

Every removal carries a reason; the runner counts it under ``<step>:<reason>``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash
from pydantic import BaseModel, ConfigDict

REASON_COLUMN = "reason"


@dataclass
class StepResult:
    """What a map step made of one batch.

    ``kept`` continues down the pipeline; ``rejected`` holds the removed documents with a
    ``reason`` column (full ``<step>:<reason>``); ``counters`` are extra numbers a step
    reports (characters removed, spans found, PII by type, ...).
    """

    kept: pa.Table
    rejected: pa.Table | None = None
    counters: Counter = field(default_factory=Counter)
    #: set by :func:`drop_emptied`: no kept document has blank text (the runner's guard
    #: need not look again)
    emptied_dropped: bool = False

    def removed_by_reason(self) -> Counter:
        if self.rejected is None or self.rejected.num_rows == 0:
            return Counter()
        return Counter(self.rejected.column(REASON_COLUMN).to_pylist())


class Step(BaseModel):
    """Base of all steps: typed parameters, nothing else in the constructor."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: the registry name, also the default prefix of signal columns and reasons
    name: ClassVar[str] = ""

    def describe(self) -> dict[str, Any]:
        """The step's configuration as it would appear in YAML."""
        return {self.name: self.model_dump(mode="json")}

    def input_files(self) -> tuple[str, ...]:
        """Files, folders or globs whose contents decide what the step does (models, word
        lists, benchmarks). The runner fingerprints their contents, so a resumed run redoes
        the step when one of them changed."""
        return ()


def split_by_reasons(batch: pa.Table, reasons: Sequence[str | None], step_id: str) -> StepResult:
    """Split ``batch`` into kept rows (reason None) and rejected rows with their reason."""
    if len(reasons) != batch.num_rows:
        raise ValueError(
            f"step {step_id!r} decided {len(reasons)} reasons for {batch.num_rows} documents"
        )
    reason_array = pa.array(
        [None if r is None else f"{step_id}:{r}" for r in reasons], type=pa.string()
    )
    removed_mask = pc.is_valid(reason_array)
    if not pc.any(removed_mask).as_py():
        return StepResult(kept=batch)
    rejected = batch.filter(removed_mask).append_column(
        REASON_COLUMN, reason_array.filter(removed_mask)
    )
    return StepResult(kept=batch.filter(pc.invert(removed_mask)), rejected=rejected)


EMPTIED_REASON = "empty"


def drop_emptied(result: StepResult, step_id: str) -> StepResult:
    """Move the kept documents whose text a step left empty (or only whitespace) to the
    rejected ones, as ``<step>:empty``: no document leaves a text-rewriting step empty.
    Documents and counts stay accounted for (``docs_out`` shrinks, ``removed`` grows)."""
    kept = result.kept
    if result.emptied_dropped:
        return result
    if kept.num_rows == 0 or "text" not in kept.column_names:
        result.emptied_dropped = True
        return result
    blank = pc.fill_null(pc.equal(pc.utf8_trim_whitespace(kept.column("text")), ""), True)
    if not pc.any(blank).as_py():
        result.emptied_dropped = True
        return result
    emptied = kept.filter(blank)
    emptied = emptied.append_column(
        REASON_COLUMN, pa.array([f"{step_id}:{EMPTIED_REASON}"] * emptied.num_rows, pa.string())
    )
    if result.rejected is not None and result.rejected.num_rows:
        for name in result.rejected.column_names:  # a step's own columns, null here
            if name not in emptied.column_names:
                column_type = result.rejected.schema.field(name).type
                emptied = emptied.append_column(name, pa.nulls(emptied.num_rows, column_type))
        emptied = pa.concat_tables([result.rejected, emptied.select(result.rejected.column_names)])
    return StepResult(
        kept=kept.filter(pc.invert(blank)),
        rejected=emptied,
        counters=result.counters,
        emptied_dropped=True,
    )


class MapStep(Step):
    """A step that works one batch at a time (fused with its neighbours in one task)."""

    #: parameter → (signal it thresholds, "min" or "max"): what ``gristmill calibrate``
    #: derives from a reference corpus and the report marks on the signal's histogram
    calibrated: ClassVar[dict[str, tuple[str, str]]] = {}

    def process(self, batch: pa.Table, step_id: str, keep_signals: bool = True) -> StepResult:
        raise NotImplementedError

    def thresholds(self) -> dict[str, list[float]]:
        """Signal name → the values at which the step's decision changes: the parameters of
        ``calibrated``, and ``min_<signal>`` / ``max_<signal>`` parameters. Steps whose
        parameters name their signals otherwise override this."""
        pairs = [(signal, parameter) for parameter, (signal, _) in self.calibrated.items()]
        for parameter in type(self).model_fields:
            if parameter.startswith(("min_", "max_")) and parameter not in self.calibrated:
                pairs.append((parameter[4:], parameter))
        marks: dict[str, list[float]] = {}
        for signal, parameter in pairs:
            value = getattr(self, parameter, None)
            if isinstance(value, int | float) and not isinstance(value, bool):
                marks.setdefault(signal, []).append(float(value))
        return marks


class Filter(MapStep):
    """Measure signals, then decide. Subclasses implement ``signals`` and ``decide``.

    ``signals`` returns arrays aligned with the batch, keyed by signal name (without the
    step prefix); ``decide`` returns one reason per document (None = keep). Optionally,
    ``signal_bins`` fixes histogram bin edges per signal for the run report, and
    ``thresholds()`` names the cut-offs the report marks on those histograms.
    """

    signal_bins: ClassVar[dict[str, list[float]]] = {}

    def signals(self, batch: pa.Table) -> dict[str, pa.Array | np.ndarray]:
        raise NotImplementedError

    def decide(self, signals: dict[str, pa.Array | np.ndarray]) -> Sequence[str | None]:
        raise NotImplementedError

    def process(self, batch: pa.Table, step_id: str, keep_signals: bool = True) -> StepResult:
        if batch.num_rows == 0:
            return StepResult(kept=batch)
        measured = self.signals(batch)
        reasons = self.decide(measured)
        if keep_signals:
            for signal, values in measured.items():
                batch = batch.append_column(f"{step_id}_{signal}", pa.array(values))
        return split_by_reasons(batch, reasons, step_id)


class Transform(MapStep):
    """Rewrite text. ``rewrite`` returns the new texts, a drop reason per document (None =
    keep) and counters; documents a transform empties are dropped under its reason, or as
    ``<step>:empty`` where it gave none (:func:`drop_emptied`)."""

    def rewrite(
        self, batch: pa.Table
    ) -> tuple[pa.Array | list[str], Sequence[str | None], Counter]:
        raise NotImplementedError

    def process(self, batch: pa.Table, step_id: str, keep_signals: bool = True) -> StepResult:
        if batch.num_rows == 0:
            return StepResult(kept=batch)
        texts, reasons, counters = self.rewrite(batch)
        index = batch.schema.get_field_index("text")
        batch = batch.set_column(index, "text", pa.array(texts, type=pa.large_string()))
        result = split_by_reasons(batch, reasons, step_id)
        result.counters.update(counters)
        return drop_emptied(result, step_id)


def shard_bucket(shard_key: str) -> str:
    """The stable, filesystem-safe name of a shard in global-step signatures and resolutions."""
    return xxhash.xxh3_64_hexdigest(shard_key.encode("utf-8"))


class GlobalStep(Step):
    """A step that needs all shards before it can decide (dedup, decontamination).

    - ``collect(batch)`` → a table of signatures with at least ``id``; the runner adds
      ``priority`` (the source's dedup priority) and ``shard`` (:func:`shard_bucket`) and
      writes one signature file per shard.
    - ``resolve(signature_paths, resolution_dir)`` runs on the Dask cluster (dask
      collections over the signature files) and writes what ``apply`` needs.
    - ``load(resolution_dir, shard_key)`` reads the part of the resolution one shard needs;
      ``apply(batch, state, step_id)`` removes documents (or spans) with reasons.
    """

    def collect(self, batch: pa.Table) -> pa.Table:
        raise NotImplementedError

    def resolution_state(self, resolution_dir: str) -> Any:
        """Anything besides the signatures and :meth:`input_files` that the resolution
        depends on (e.g. the other runs' parts of a dedup index), as JSON; None if nothing."""
        return None

    def resolve(self, signature_paths: list[str], resolution_dir: str) -> dict[str, Any]:
        """Resolve over all signatures; returns small summary numbers for the run stats."""
        raise NotImplementedError

    def load(self, resolution_dir: str, shard_key: str) -> Any:
        raise NotImplementedError

    def apply(self, batch: pa.Table, state: Any, step_id: str) -> StepResult:
        raise NotImplementedError
