"""Per-language parameters of a filter, chosen by each document's language ID.

FineWeb-2 (Penedo et al. 2025) runs the same heuristic filters on every language with
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
validated when the config is read, and an error names the language and the key.

``calibration: thresholds.yaml`` reads blocks written by ``gristmill calibrate`` (thresholds
at quantiles of reference text per language, FineWeb-2's method): the file's
``steps.<step name>.<language>`` mappings are blocks of their own, and ``by_language`` keys
override them. A relative path is relative to the config file. The
documents of each language go through their variant of the step; the batch keeps its order.
Signal columns a variant does not produce (other n-gram sizes) are null for its documents.
"""

from __future__ import annotations

import os
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Self

import pyarrow as pa
import yaml
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
    calibration: str | None = Field(
        None, description="thresholds per language written by gristmill calibrate"
    )

    #: parameters holding file paths, made relative to the config file by with_base_dir
    path_fields: ClassVar[tuple[str, ...]] = ("calibration",)

    def language_blocks(self, require_file: bool = True) -> dict[str, dict[str, Any]]:
        """The parameter blocks per language: the calibration file's, then ``by_language``'s."""
        if self.calibration is None:
            return self.by_language
        relative = not os.path.isabs(self.calibration) and "://" not in self.calibration
        if not require_file and relative and not os.path.exists(self.calibration):
            return self.by_language  # checked once made relative to the config file
        blocks = {
            lang: dict(params)
            for lang, params in calibrated_blocks(self.calibration, self.name).items()
        }
        for language, params in self.by_language.items():
            blocks[language] = {**blocks.get(language, {}), **params}
        return blocks

    def with_base_dir(self, base_dir: str | os.PathLike[str]) -> Self:
        """The same step with relative file parameters made relative to ``base_dir``."""
        update = {
            key: os.path.join(os.fspath(base_dir), value)
            for key in self.path_fields
            if (value := getattr(self, key)) and "://" not in value and not os.path.isabs(value)
        }
        if not update:
            return self
        return type(self).model_validate({**self.model_dump(exclude_unset=True), **update})

    def input_files(self) -> tuple[str, ...]:
        own = (self.calibration,) if self.calibration else ()
        return (*super().input_files(), *own)

    @model_validator(mode="after")
    def _blocks_are_valid(self) -> Self:
        try:
            blocks = self.language_blocks(require_file=False)
        except (OSError, ValueError, yaml.YAMLError) as error:
            raise ValueError(f"calibration: {error}") from None
        for language, params in blocks.items():
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
        data = self.model_dump(exclude={"by_language", "calibration"}, exclude_unset=True)
        return type(self).model_validate({**data, **params})

    def for_language(self, language: str | None) -> Self:
        """This step with the parameters that apply to documents in ``language``."""
        blocks = self.language_blocks()
        key = block_for(blocks, language)
        return self._variant({} if key is None else blocks[key])

    def process(self, batch: pa.Table, step_id: str, keep_signals: bool = True) -> StepResult:
        blocks = self.language_blocks()
        if not blocks or batch.num_rows == 0:
            return super().process(batch, step_id, keep_signals)
        if self.language_column not in batch.column_names:
            raise ValueError(
                f"step {step_id!r}: by_language needs the {self.language_column!r} column; "
                "put a lid step before it or set language_column"
            )
        languages = batch.column(self.language_column).to_pylist()
        keys = [block_for(blocks, language) for language in languages]
        groups: dict[str | None, list[int]] = {}
        for row, key in enumerate(keys):
            groups.setdefault(key, []).append(row)
        if len(groups) == 1:
            variant = self._variant(blocks[keys[0]] if keys[0] else {})
            return variant.process(batch, step_id, keep_signals)
        numbered = batch.append_column(_ROW, pa.array(range(batch.num_rows), pa.int64()))
        kept: list[pa.Table] = []
        rejected: list[pa.Table] = []
        counters: Counter = Counter()
        for key, rows in groups.items():
            variant = self._variant(blocks[key] if key else {})
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


def block_for(blocks: dict[str, Any], language: str | None) -> str | None:
    """The key of ``blocks`` that applies to ``language``: the code itself (``zh_Hant``),
    its base (``zh``), else ``default``; None: the step's own parameters."""
    if language:
        if language in blocks:
            return language
        base = language.replace("-", "_").split("_")[0]
        if base in blocks:
            return base
    return DEFAULT if DEFAULT in blocks else None


def calibrated_blocks(path: str, step_name: str) -> dict[str, dict[str, Any]]:
    """The blocks per language that ``gristmill calibrate`` wrote for ``step_name``."""
    return _read_calibration(path, os.stat(path).st_mtime_ns).get(step_name, {})


@cache
def _read_calibration(path: str, version: int) -> dict[str, dict[str, dict[str, Any]]]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    steps = data.get("steps") if isinstance(data, dict) else None
    if not isinstance(steps, dict):
        raise ValueError(f"{path}: not a calibration file (no 'steps' mapping)")
    return steps


def _in_batch_order(parts: list[pa.Table]) -> pa.Table:
    """The parts as one table in the original row order, without the row numbers."""
    table = pa.concat_tables(parts, promote_options="default")
    table = table.sort_by(_ROW)
    return table.drop_columns([_ROW])
