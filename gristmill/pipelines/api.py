"""The Python API: a pipeline built from step objects, run on the same engine as the CLI.

As in datatrove, a pipeline is a plain list of steps per source, written in code; unlike a
hand-rolled loop, it is the very config a YAML file would give (each step object is its own
YAML block, :meth:`~gristmill.steps.Step.describe`), so it is validated the same way, runs
on the same Dask runner with resume and accounting, and can be written out as YAML::

    from gristmill import Pipeline, Source
    from gristmill.filters.gopher_quality import GopherQuality

    pipeline = Pipeline(
        output="out/",
        sources=[Source("web", paths=["crawl/*.jsonl.gz"], format="jsonl",
                        stages=[GopherQuality(min_words=20), "exact_dedup"])],
    )
    run = pipeline.run(workers=2)        # the run record, as in out/run.json
    print(pipeline.to_yaml())            # the same pipeline as a config file
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gristmill.pipelines.config import RunConfig, parse_config
from gristmill.steps import Step

StageSpec = Step | str | dict[str, Any]


def _stage_block(stage: StageSpec) -> str | dict[str, Any]:
    if isinstance(stage, Step):
        if not stage.name:
            raise ValueError(
                f"{type(stage).__name__} has no step name: register it with "
                "gristmill.pipelines.registry.register_step('my_step')"
            )
        return stage.describe()
    return stage


@dataclass
class Source:
    """One input: a name, paths (globs or fsspec URLs), a format and its stages in order."""

    name: str
    paths: list[str]
    format: str
    stages: list[StageSpec] = field(default_factory=list)
    reader: dict[str, Any] = field(default_factory=dict)
    weight: float | None = None
    priority: int = 0
    storage_options: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        block: dict[str, Any] = {
            "name": self.name,
            "paths": [str(p) for p in self.paths],
            "format": self.format,
            "stages": [_stage_block(stage) for stage in self.stages],
        }
        if self.reader:
            block["reader"] = dict(self.reader)
        if self.weight is not None:
            block["weight"] = self.weight
        if self.priority:
            block["priority"] = self.priority
        if self.storage_options:
            block["storage_options"] = dict(self.storage_options)
        return block


@dataclass
class Pipeline:
    """Sources, an output folder and the run options of a pipeline YAML's top level."""

    output: str | Path
    sources: list[Source]
    output_format: str = "arrow"
    write_rejected: bool = False
    keep_signals: bool = True
    tokenizer: dict[str, Any] | None = None
    mixture: dict[str, Any] | None = None
    storage_options: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "output": str(self.output),
            "output_format": self.output_format,
            "write_rejected": self.write_rejected,
            "keep_signals": self.keep_signals,
            "sources": [source.to_dict() for source in self.sources],
        }
        for section in ("tokenizer", "mixture", "storage_options"):
            if getattr(self, section) is not None:
                data[section] = getattr(self, section)
        return data

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True)

    def config(self) -> RunConfig:
        """The validated config (raises ``ConfigError`` as a YAML file would)."""
        return parse_config(self.to_dict(), source_file="<Pipeline>", base_dir=Path.cwd())

    def run(
        self,
        workers: int | None = None,
        scheduler: str | None = None,
        scheduler_file: str | None = None,
        resume: bool = True,
    ) -> dict[str, Any]:
        """Run on an embedded LocalCluster of ``workers`` processes, or on the cluster at
        ``scheduler`` / ``scheduler_file``; returns the run record (``run.json``)."""
        from gristmill.pipelines.runner import dask_client, run_pipeline

        config = self.config()
        with dask_client(workers or config.workers, scheduler, scheduler_file) as client:
            return run_pipeline(config, client, resume=resume)
