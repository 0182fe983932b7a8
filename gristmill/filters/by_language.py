"""Per-language parameters of a filter, chosen by each document's language ID.

FineWeb-2 (Penedo et al. 2025, §3) runs the same heuristic filters on every language with
thresholds set per language; CCNet (Wenzek et al. 2020) keeps one language model per
language. A step that inherits :class:`LanguageParameters` takes a ``by_language`` block
that overrides its parameters per language::

    gopher_quality:
      min_words: 50                      # every language not listed (also: a "default" block)
      by_language:
        zh: {min_mean_word_length: 1, max_mean_word_length: 4, stop_words_from: zh}
        ja: {min_mean_word_length: 1, max_mean_word_length: 4, stop_words_from: ja}

A document's language is read from ``language_column`` (the ``lid`` step's ``lid_lang``);
``zh_Hant`` matches a ``zh_Hant`` block first, then ``zh``; a language without a block, or
a null language, takes the ``default`` block, or the step's own parameters. Each block is
validated when the config is read, and an error names the language and the key. The
documents of each language go through their variant of the step; the batch keeps its order.
Signal columns a variant does not produce (other n-gram sizes) are null for its documents.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Self

import pyarrow as pa
from pydantic import Field, ValidationError, model_validator

from gristmill.steps import MapStep, StepResult

DEFAULT = "default"
_ROW = "__by_language_row"


class LanguageParameters(MapStep):
    """Mixin: ``by_language`` parameter overrides, keyed by language code (or ``default``)."""

    by_language: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="parameter overrides per language (lid_lang code, or 'default')",
    )
    language_column: str = Field(
        "lid_lang", description="column holding each document's language (the lid step's)"
    )

    @model_validator(mode="after")
    def _blocks_are_valid(self) -> Self:
        for language, params in self.by_language.items():
            if not isinstance(params, dict):
                raise ValueError(f"by_language.{language}: must be a mapping of parameters")
            nested = {"by_language", "language_column"} & params.keys()
            if nested:
                raise ValueError(f"by_language.{language}.{min(nested)}: not allowed here")
            try:
                self._variant(params)
            except ValidationError as error:
                problems = [
                    f"by_language.{language}.{'.'.join(map(str, item['loc'])) or '<block>'}: "
                    + (
                        "unknown key; allowed keys: "
                        + ", ".join(k for k in type(self).model_fields if k != "by_language")
                        if item["type"] == "extra_forbidden"
                        else item["msg"]
                    )
                    for item in error.errors()
                ]
                raise ValueError("; ".join(problems)) from None
        return self

    def _variant(self, params: dict[str, Any]) -> Self:
        data = self.model_dump(exclude={"by_language"}, exclude_unset=True)
        return type(self).model_validate({**data, **params})

    def block_for(self, language: str | None) -> str | None:
        """The ``by_language`` key whose parameters apply to ``language`` (None: the step's
        own parameters)."""
        if language:
            if language in self.by_language:
                return language
            base = language.replace("-", "_").split("_")[0]
            if base in self.by_language:
                return base
        return DEFAULT if DEFAULT in self.by_language else None

    def for_language(self, language: str | None) -> Self:
        """This step with the parameters that apply to documents in ``language``."""
        key = self.block_for(language)
        return self._variant({} if key is None else self.by_language[key])

    def process(self, batch: pa.Table, step_id: str, keep_signals: bool = True) -> StepResult:
        if not self.by_language or batch.num_rows == 0:
            return super().process(batch, step_id, keep_signals)
        if self.language_column not in batch.column_names:
            raise ValueError(
                f"step {step_id!r}: by_language needs the {self.language_column!r} column; "
                "put a lid step before it or set language_column"
            )
        keys = [self.block_for(lang) for lang in batch.column(self.language_column).to_pylist()]
        groups: dict[str | None, list[int]] = {}
        for row, key in enumerate(keys):
            groups.setdefault(key, []).append(row)
        if len(groups) == 1:
            return self._variant(self.by_language.get(keys[0], {}) if keys[0] else {}).process(
                batch, step_id, keep_signals
            )
        numbered = batch.append_column(_ROW, pa.array(range(batch.num_rows), pa.int64()))
        kept: list[pa.Table] = []
        rejected: list[pa.Table] = []
        counters: Counter = Counter()
        for key, rows in groups.items():
            variant = self._variant(self.by_language[key] if key else {})
            part = variant.process(numbered.take(rows), step_id, keep_signals)
            kept.append(part.kept)
            if part.rejected is not None:
                rejected.append(part.rejected)
            counters.update(part.counters)
        return StepResult(
            kept=_in_batch_order(kept),
            rejected=_in_batch_order(rejected) if rejected else None,
            counters=counters,
        )


def _in_batch_order(parts: list[pa.Table]) -> pa.Table:
    """The parts as one table in the original row order, without the row numbers."""
    table = pa.concat_tables(parts, promote_options="default")
    table = table.sort_by(_ROW)
    return table.drop_columns([_ROW])
