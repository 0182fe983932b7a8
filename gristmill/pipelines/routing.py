"""Routing by language: each language of a source goes through its own list of stages.

CCNet (Wenzek et al. 2020) sends each language to its own language model, and FineWeb-2
(Penedo et al. 2025) runs one filtering pipeline per language. After ``lid``, the ``route``
step does the same inside one source::

    stages:
      - lid
      - route:
          zh: [chinese_quality, {gopher_repetition: {dup_line_frac: 0.3}}]
          ja: [{gopher_quality: {min_mean_word_length: 1, stop_words_from: ja}}]
          default: [gopher_quality, c4]

A document's language is read from ``language_column`` (``lid_lang``); ``zh_Hant`` takes a
``zh_Hant`` route, else ``zh``, else ``default``; a language without a route and no
``default`` route passes unchanged. Routes hold map steps only (filters and transforms);
global steps (dedup) come after the route, shared by every language. Documents removed in
a route are counted as ``route.<language>.<step>:<reason>`` (``route.zh.gopher_quality:
min_words``). Signals of the steps inside a route are not kept as columns (each language
would add other columns, and an output shard has one schema); a step whose signals are
needed goes outside the route with ``by_language`` parameters.
"""

from __future__ import annotations

from collections import Counter
from functools import cached_property
from typing import Any, Self

import pyarrow as pa
from pydantic import Field, model_validator

from gristmill.steps import GlobalStep, MapStep, StepResult

DEFAULT = "default"
_ROW = "__route_row"


class LanguageRoute(MapStep):
    """Send each language's documents through its own stage list (see the module doc)."""

    name = "route"

    routes: dict[str, list[str | dict[str, Any]]] = Field(
        description="stage list per language code, and 'default' for the others"
    )
    language_column: str = "lid_lang"

    @model_validator(mode="before")
    @classmethod
    def _routes_at_top_level(cls, data: Any) -> Any:
        """``route: {zh: [...], default: [...]}`` is short for ``route: {routes: {...}}``."""
        if isinstance(data, dict) and "routes" not in data:
            column = data.get("language_column")
            routes = {key: value for key, value in data.items() if key != "language_column"}
            return {"routes": routes} | ({"language_column": column} if column else {})
        return data

    @model_validator(mode="after")
    def _stages_are_valid(self) -> Self:
        _ = self.stages  # parse now, so that config errors name the route and the stage
        return self

    @cached_property
    def stages(self) -> dict[str, tuple[tuple[str, MapStep], ...]]:
        """Language → (stage id, step) of its route."""
        from gristmill.pipelines.config import ConfigError, _parse_stages

        parsed: dict[str, tuple[tuple[str, MapStep], ...]] = {}
        for language, items in self.routes.items():
            where = f"routes.{language}"
            try:
                stages = _parse_stages(list(items), "route", where)
            except ConfigError as error:
                raise ValueError(str(error).removeprefix("route: ")) from None
            for stage in stages:
                if isinstance(stage.step, GlobalStep) or stage.step.name == self.name:
                    raise ValueError(
                        f"{where}: {stage.id!r} cannot run inside a route (only filters and "
                        "transforms can; put global steps after the route)"
                    )
            parsed[language] = tuple((stage.id, stage.step) for stage in stages)
        return parsed

    def route_for(self, language: str | None) -> str | None:
        if language:
            if language in self.routes:
                return language
            base = language.replace("-", "_").split("_")[0]
            if base in self.routes:
                return base
        return DEFAULT if DEFAULT in self.routes else None

    def input_files(self) -> tuple[str, ...]:
        return tuple(
            path for stages in self.stages.values() for _, step in stages
            for path in step.input_files()
        )  # fmt: skip

    def process(self, batch: pa.Table, step_id: str, keep_signals: bool = True) -> StepResult:
        if batch.num_rows == 0:
            return StepResult(kept=batch)
        if self.language_column not in batch.column_names:
            raise ValueError(
                f"step {step_id!r}: routing needs the {self.language_column!r} column; "
                "put a lid step before it or set language_column"
            )
        groups: dict[str | None, list[int]] = {}
        for row, language in enumerate(batch.column(self.language_column).to_pylist()):
            groups.setdefault(self.route_for(language), []).append(row)
        numbered = batch.append_column(_ROW, pa.array(range(batch.num_rows), pa.int64()))
        kept: list[pa.Table] = []
        rejected: list[pa.Table] = []
        counters: Counter = Counter()
        for route, rows in groups.items():
            part = numbered.take(rows)
            for stage_id, step in self.stages.get(route, ()) if route else ():
                result = step.process(part, f"{step_id}.{route}.{stage_id}", keep_signals=False)
                part = result.kept
                if result.rejected is not None and result.rejected.num_rows:
                    rejected.append(result.rejected)
                counters.update(
                    {f"{route}.{stage_id}.{key}": value for key, value in result.counters.items()}
                )
                if part.num_rows == 0:
                    break
            kept.append(part)
        return StepResult(
            kept=_in_batch_order(kept), rejected=_in_batch_order(rejected), counters=counters
        )


def _in_batch_order(parts: list[pa.Table]) -> pa.Table | None:
    if not parts:
        return None
    return pa.concat_tables(parts).sort_by(_ROW).drop_columns([_ROW])
