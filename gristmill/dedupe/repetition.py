"""In-document repetition: remove repeated sentences or lines inside one document.

Repeated lines and sentences teach a model repetitive patterns (the survey's sentence-level
de-duplication, §4.1.2; Gopher's repetition statistics, Rae et al. 2021, measure the same
thing and drop whole documents). This transform keeps the first ``max_occurrences``
copies of each normalised unit and cuts the later ones, as CCNet's ``finalize_doc`` does
for lines inside a document. Units are sentences, or lines for code-like text
(:mod:`gristmill.dedupe.sentences`); units shorter than ``min_unit_chars``
characters (``}``, ``Home``, a bullet) are never removed. Code-like documents are left
alone by default (``skip_code``): repetition is normal in code. Counters:
``units_removed``, ``chars_removed``, ``docs_changed``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pyarrow as pa
from pydantic import Field

from gristmill.dedupe.sentences import UnitKind, batch_units
from gristmill.dedupe.span_removal import remove_spans
from gristmill.steps import Transform


class RepeatedUnits(Transform):
    """Cut sentences or lines repeated inside a document beyond the first occurrence(s)."""

    name = "repetition"

    unit: UnitKind = "auto"
    max_occurrences: int = Field(1, ge=1)
    min_unit_chars: int = Field(10, ge=0)
    skip_code: bool = True

    def rewrite(self, batch: pa.Table) -> tuple[list[str], Sequence[str | None], Counter]:
        texts = batch.column("text").to_pylist()
        counters: Counter = Counter()
        for row, units in enumerate(batch_units(texts, self.unit)):
            if self.skip_code and units.kind == "lines" and self.unit == "auto":
                continue
            seen: Counter = Counter()
            removed = []
            for index, (start, end) in enumerate(units.spans):
                key = int(units.hashes[index])
                if key == 0 or end - start < self.min_unit_chars:
                    continue
                seen[key] += 1
                if seen[key] > self.max_occurrences:
                    removed.append((start, end))
            if removed:
                new_text = remove_spans(texts[row], removed)
                counters["units_removed"] += len(removed)
                counters["chars_removed"] += len(texts[row]) - len(new_text)
                counters["docs_changed"] += 1
                texts[row] = new_text
        return texts, [None if text.strip() else "empty" for text in texts], counters
