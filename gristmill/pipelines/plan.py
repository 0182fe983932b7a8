"""From a config to segments: maximal runs of map steps, cut at global steps.

Each source's stage list is cut at its global steps. Segment 0 runs the reader and the map
steps before the first global step, and collects that step's signatures; each later
segment applies one global step's resolution, runs the map steps up to the next global step
and collects for it. Global steps are resolved between phases, in an order consistent with
every source (see :func:`gristmill.pipelines.config.global_step_order`), so a global step
shared by several sources is resolved once across all of them. Output paths of a run::

    out/data/<source>/<shard>.<fmt>                    final documents (+ .done markers)
    out/rejected/<source>/<stage>/<shard>.<fmt>         removed documents with a reason
    out/work/<source>/segment-<k>/<shard>.arrow         intermediate shards between phases
    out/work/global/<step>/signatures/<source>/<shard>.parquet
    out/work/global/<step>/resolution/
    out/run.json                                        merged stats and the config
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from gristmill import __version__
from gristmill.io.base import Shard
from gristmill.io.writers import SUFFIXES
from gristmill.pipelines.config import RunConfig, SourceConfig, Stage, describe_stage, fingerprint
from gristmill.records import files_digest


@dataclass(frozen=True)
class Segment:
    """The fused map work of one source in one phase."""

    source: SourceConfig
    index: int
    phase: int
    apply: Stage | None
    stages: tuple[Stage, ...]
    collect: Stage | None
    is_last: bool

    @property
    def stage_ids(self) -> list[str]:
        ids = ["read"] if self.index == 0 else []
        if self.apply is not None:
            ids.append(self.apply.id)
        return ids + [stage.id for stage in self.stages]

    def fingerprint(self, previous: str, resolution: str | None, config: RunConfig) -> str:
        return fingerprint(
            {
                "version": __version__,
                "previous": previous,
                "source": {
                    "name": self.source.name,
                    "format": self.source.format,
                    "reader": self.source.reader.model_dump(mode="json"),
                    "priority": self.source.priority,
                },
                "index": self.index,
                "apply": describe_stage(self.apply) if self.apply else None,
                "resolution": resolution,
                "stages": [describe_stage(stage) for stage in self.stages],
                "collect": describe_stage(self.collect) if self.collect else None,
                "files": files_digest(
                    path
                    for stage in (self.apply, *self.stages, self.collect)
                    if stage is not None
                    for path in stage.step.input_files()
                ),
                "output": config.output_format if self.is_last else "arrow",
                "keep_signals": config.keep_signals if self.is_last else True,
                "write_rejected": config.write_rejected,
                # rejected documents of stages before pii are scrubbed (outputs of older
                # versions, which kept them raw, are redone on resume)
                "rejected_scrubbed_by_pii": config.write_rejected
                and any(stage.step.name == "pii" for stage in self.source.stages),
            }
        )


def plan_segments(config: RunConfig) -> dict[str, list[Segment]]:
    """Per source, its segments in order; ``phase`` says when each one runs."""
    order = config.global_order()
    phase_of = {step_id: position + 1 for position, step_id in enumerate(order)}
    plan: dict[str, list[Segment]] = {}
    for source in config.sources:
        chunks: list[list[Stage]] = [[]]
        globals_: list[Stage] = []
        for stage in source.stages:
            if stage.is_global:
                globals_.append(stage)
                chunks.append([])
            else:
                chunks[-1].append(stage)
        segments = []
        for index, chunk in enumerate(chunks):
            apply = globals_[index - 1] if index > 0 else None
            collect = globals_[index] if index < len(globals_) else None
            segments.append(
                Segment(
                    source=source,
                    index=index,
                    phase=phase_of[apply.id] if apply else 0,
                    apply=apply,
                    stages=tuple(chunk),
                    collect=collect,
                    is_last=index == len(chunks) - 1,
                )
            )
        plan[source.name] = segments
    return plan


def output_url(config: RunConfig, segment: Segment, shard: Shard) -> str:
    if segment.is_last:
        return posixpath.join(
            config.output, "data", shard.source, shard.name + SUFFIXES[config.output_format]
        )
    return posixpath.join(segment_work_dir(config, segment), shard.name + ".arrow")


def segment_work_dir(config: RunConfig, segment: Segment) -> str:
    """The folder of a segment's intermediate shards (a segment that is not the last)."""
    return posixpath.join(config.output, "work", segment.source.name, f"segment-{segment.index}")


def global_dir(config: RunConfig, step_id: str) -> str:
    return posixpath.join(config.output, "work", "global", step_id)


def signature_url(config: RunConfig, step_id: str, shard: Shard) -> str:
    return posixpath.join(
        global_dir(config, step_id), "signatures", shard.source, shard.name + ".parquet"
    )


def resolution_dir(config: RunConfig, step_id: str) -> str:
    return posixpath.join(global_dir(config, step_id), "resolution")


def rejected_url(config: RunConfig, stage_id: str, shard: Shard) -> str:
    return posixpath.join(
        config.output,
        "rejected",
        shard.source,
        stage_id,
        shard.name + SUFFIXES[config.output_format],
    )
