"""The pipeline YAML: sources, their readers and stages, and the output.

One file names the sources (name, paths, format, reader options, mixture weight), the
stages each source goes through, and the output folder::

    output: out/
    sources:
      - name: web
        paths: [crawl/*.warc.gz]
        format: warc
        reader: {extractor: resiliparse}
        weight: 0.8
        stages:
          - normalize
          - length: {min_words: 50}
          - exact_dedup

Validation is strict: unknown keys are errors, and every error names the file, the key
and the allowed values. Nothing in a config is executed (no eval, no pickle). A global step
(``exact_dedup`` above) named by several sources is resolved once across all of them.
"""

from __future__ import annotations

import importlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gristmill import __version__
from gristmill.io.base import Reader
from gristmill.pipelines.bounded_yaml import YamlTooLarge, load_bounded_yaml
from gristmill.pipelines.registry import READERS, known_steps, reader_class, step_class
from gristmill.pipelines.step_inputs import InputFileError, check_step_inputs
from gristmill.records import fingerprint
from gristmill.steps import GlobalStep, Step
from gristmill.storage import register as register_storage
from gristmill.storage import url_root

#: the largest pipeline YAML read (a config is a few kilobytes)
MAX_CONFIG_BYTES = 4 * 2**20


class ConfigError(ValueError):
    """A config file is invalid; the message names the file, the key and what is allowed."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _TopLevel(_Strict):
    output: str = Field(description="folder (or fsspec URL) the run writes to")
    output_format: Literal["arrow", "parquet", "jsonl"] = "arrow"
    keep_signals: bool = True
    write_rejected: bool = False
    workers: int | None = Field(None, ge=1)
    sources: list[dict[str, Any]] = Field(min_length=1)
    tokenizer: dict[str, Any] | None = None
    mixture: dict[str, Any] | None = None
    storage_options: dict[str, Any] | None = Field(
        None, description="fsspec options of the output URL (endpoint_url, profile, anon, ...)"
    )


#: Sections after the document stages, validated by their stage package's model.
POST_SECTIONS: dict[str, str] = {
    "tokenizer": "gristmill.tokenize.config:TokenizerConfig",
    "mixture": "gristmill.mixture.config:MixtureConfig",
}


class _Source(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    paths: list[str] = Field(min_length=1)
    format: str
    reader: dict[str, Any] = Field(default_factory=dict)
    weight: float | None = Field(None, ge=0)
    priority: int = 0
    stages: list[str | dict[str, Any]] = Field(default_factory=list)
    storage_options: dict[str, Any] | None = Field(
        None, description="fsspec options of these paths (endpoint_url, profile, anon, ...)"
    )

    @field_validator("paths", mode="before")
    @classmethod
    def _one_path_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value not in READERS:
            raise ValueError(f"unknown format {value!r}; allowed: {', '.join(sorted(READERS))}")
        return value


@dataclass(frozen=True)
class Stage:
    """One configured step of one source; ``id`` prefixes its signals and reasons."""

    id: str
    step: Step

    @property
    def is_global(self) -> bool:
        return isinstance(self.step, GlobalStep)


@dataclass(frozen=True)
class SourceConfig:
    name: str
    paths: tuple[str, ...]
    format: str
    reader: Reader
    weight: float | None
    priority: int
    stages: tuple[Stage, ...]


@dataclass(frozen=True)
class RunConfig:
    output: str
    output_format: str
    keep_signals: bool
    write_rejected: bool
    workers: int | None
    sources: tuple[SourceConfig, ...]
    tokenizer: Any = None
    mixture: Any = None
    source_file: str = "<dict>"
    raw: Any = None
    #: (URL prefix, fsspec options) of the sources' paths and the output; kept out of the
    #: fingerprint and of run.json (they may hold credentials, and change no result)
    storage: tuple[tuple[str, dict[str, Any]], ...] = ()

    def fingerprint(self) -> str:
        """sha256 of the normalised configuration and the gristmill version."""
        return fingerprint({"version": __version__, "config": self.describe()})

    def describe(self) -> dict[str, Any]:
        """The configuration as plain data (what the run manifest records)."""
        return {
            "output_format": self.output_format,
            "keep_signals": self.keep_signals,
            "write_rejected": self.write_rejected,
            "sources": [describe_source(source) for source in self.sources],
            "tokenizer": self.tokenizer.model_dump(mode="json") if self.tokenizer else None,
            "mixture": self.mixture.model_dump(mode="json") if self.mixture else None,
        }

    def global_order(self) -> list[str]:
        return global_step_order(self)


def with_dedup_index(config: RunConfig, index: str) -> RunConfig:
    """Point every dedup step that keeps a dataset index (an ``index`` parameter) at
    ``index`` — the ``--dedup-index`` flag. Steps key their part of it by their name."""
    import dataclasses

    index = _resolve_path(index, Path.cwd())
    sources = []
    for source in config.sources:
        stages = tuple(
            Stage(stage.id, stage.step.model_copy(update={"index": index}))
            if "index" in type(stage.step).model_fields
            else stage
            for stage in source.stages
        )
        sources.append(dataclasses.replace(source, stages=stages))
    if sources == list(config.sources):
        raise ConfigError(
            f"{config.source_file}: --dedup-index given, but no stage keeps a dataset index "
            "(add a minhash stage)"
        )
    return dataclasses.replace(config, sources=tuple(sources))


def describe_source(source: SourceConfig) -> dict[str, Any]:
    return {
        "name": source.name,
        "paths": list(source.paths),
        "format": source.format,
        "reader": source.reader.model_dump(mode="json"),
        "weight": source.weight,
        "priority": source.priority,
        "stages": [describe_stage(stage) for stage in source.stages],
    }


def describe_stage(stage: Stage) -> dict[str, Any]:
    return {"id": stage.id, "step": stage.step.name, "params": stage.step.model_dump(mode="json")}


def load_config(path: str | os.PathLike[str], output: str | None = None) -> RunConfig:
    """Read and validate a pipeline YAML. Relative paths are relative to the file."""
    path = Path(path)
    text = _read_config_text(path)
    try:
        data = load_bounded_yaml(text)
    except YamlTooLarge as error:
        raise ConfigError(f"{path}: {error}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the config must be a mapping with 'output' and 'sources'")
    if output is not None:
        data = {**data, "output": output}
    return parse_config(data, source_file=str(path), base_dir=path.parent)


def _read_config_text(path: Path) -> str:
    """The config's text; a device, FIFO or huge file is refused before it is opened."""
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"{path}: the config must be a regular file")
        if info.st_size > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"{path}: the config is {info.st_size:,} bytes; at most {MAX_CONFIG_BYTES:,}"
            )
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the config: {error}") from error
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: the config is not UTF-8 text: {error}") from None


def parse_config(
    data: dict[str, Any], source_file: str = "<dict>", base_dir: Path | None = None
) -> RunConfig:
    top = _validate(_TopLevel, data, source_file, "")
    sources = []
    for index, raw_source in enumerate(top.sources):
        where = f"sources[{index}]"
        if not isinstance(raw_source, dict):
            raise ConfigError(f"{source_file}: {where}: a source must be a mapping")
        source = _validate(_Source, raw_source, source_file, where)
        reader = _validate(
            reader_class(source.format), source.reader, source_file, f"{where}.reader"
        )
        stages = _parse_stages(source.stages, source_file, f"{where}.stages", base_dir)
        sources.append(
            SourceConfig(
                name=source.name,
                paths=tuple(_resolve_path(p, base_dir) for p in source.paths),
                format=source.format,
                reader=reader,
                weight=source.weight,
                priority=source.priority,
                stages=stages,
            )
        )
    names = [s.name for s in sources]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{source_file}: sources: duplicate source names {duplicates}")
    post = {
        section: _validate(_import(POST_SECTIONS[section]), value, source_file, section)
        for section, value in (("tokenizer", top.tokenizer), ("mixture", top.mixture))
        if value is not None
    }
    storage: list[tuple[str, dict[str, Any]]] = []
    for source, raw_source in zip(sources, top.sources, strict=True):
        options = raw_source.get("storage_options")
        storage.extend((url_root(path), dict(options)) for path in source.paths if options)
    output = _resolve_path(top.output, base_dir)
    if top.storage_options:
        storage.append((output, dict(top.storage_options)))
    for prefix, options in storage:
        register_storage(prefix, options)
    config = RunConfig(
        output=output,
        output_format=top.output_format,
        keep_signals=top.keep_signals,
        write_rejected=top.write_rejected,
        workers=top.workers,
        sources=tuple(sources),
        tokenizer=post.get("tokenizer"),
        mixture=post.get("mixture"),
        source_file=source_file,
        raw=data,
        storage=tuple(storage),
    )
    _check_global_steps(config)
    for value in post.values():
        try:
            value.check(config)
        except ValueError as error:
            raise ConfigError(f"{source_file}: {error}") from None
    return config


def _parse_stages(
    items: list[Any], source_file: str, where: str, base_dir: Path | None = None
) -> tuple[Stage, ...]:
    """Steps whose parameters name files offer ``with_base_dir``: relative paths in a
    config are relative to the config file, like source paths."""
    stages: list[Stage] = []
    used: set[str] = set()
    for index, item in enumerate(items):
        here = f"{where}[{index}]"
        if isinstance(item, str):
            name, params = item, {}
        elif isinstance(item, dict) and len(item) == 1:
            name, params = next(iter(item.items()))
            params = params or {}
        else:
            raise ConfigError(
                f"{source_file}: {here}: a stage is a step name or a one-key mapping "
                f"{{step: {{params}}}}; allowed steps: {', '.join(sorted(known_steps()))}"
            )
        if name not in known_steps():
            raise ConfigError(
                f"{source_file}: {here}: unknown step {name!r}; allowed: {', '.join(sorted(known_steps()))}"
            )
        if not isinstance(params, dict):
            raise ConfigError(f"{source_file}: {here}.{name}: parameters must be a mapping")
        step = _validate(step_class(name), params, source_file, f"{here}.{name}")
        if base_dir is not None and hasattr(step, "with_base_dir"):
            step = step.with_base_dir(base_dir)
        try:
            check_step_inputs(step, f"{here}.{name}")
        except InputFileError as error:
            raise ConfigError(f"{source_file}: {error}") from None
        stage_id = name
        suffix = 2
        while stage_id in used:
            stage_id = f"{name}_{suffix}"
            suffix += 1
        used.add(stage_id)
        stages.append(Stage(id=stage_id, step=step))
    return tuple(stages)


def _validate(model: type[BaseModel], data: Any, source_file: str, where: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_format_errors(error, model, source_file, where)) from None


def _format_errors(
    error: ValidationError, model: type[BaseModel], source_file: str, where: str
) -> str:
    lines = []
    for item in error.errors():
        key = where
        for part in item["loc"]:
            if isinstance(part, int):
                key += f"[{part}]"
            else:
                key = f"{key}.{part}" if key else str(part)
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            allowed = ", ".join(model.model_fields)
            message = f"unknown key; allowed keys: {allowed}"
        elif item["type"] == "missing":
            message = "required key is missing"
        lines.append(f"{source_file}: {key or '<top>'}: {message}")
    return "\n".join(lines)


def _import(path: str) -> Any:
    module_name, name = path.split(":")
    return getattr(importlib.import_module(module_name), name)


def _resolve_path(path: str, base_dir: Path | None) -> str:
    if "://" in path or base_dir is None or os.path.isabs(path):
        return path
    return str((base_dir / path).resolve())


def global_step_order(config: RunConfig) -> list[str]:
    """Global step ids in an order consistent with every source's stage list."""
    first_seen: list[str] = []
    before: dict[str, set[str]] = {}
    for source in config.sources:
        sequence = [stage.id for stage in source.stages if stage.is_global]
        for position, stage_id in enumerate(sequence):
            if stage_id not in before:
                before[stage_id] = set()
                first_seen.append(stage_id)
            before[stage_id].update(sequence[:position])
    order: list[str] = []
    pending = list(first_seen)
    while pending:
        ready = [s for s in pending if before[s] <= set(order)]
        if not ready:
            raise ConfigError(
                f"{config.source_file}: sources: global steps {pending} appear in "
                "contradicting orders across sources"
            )
        order.append(ready[0])
        pending.remove(ready[0])
    return order


def _check_global_steps(config: RunConfig) -> None:
    """A global step shared by sources must have the same parameters everywhere."""
    seen: dict[str, tuple[str, Step]] = {}
    for source in config.sources:
        for stage in source.stages:
            if not stage.is_global:
                continue
            if stage.id in seen and seen[stage.id][1] != stage.step:
                raise ConfigError(
                    f"{config.source_file}: sources: global step {stage.id!r} has different "
                    f"parameters in sources {seen[stage.id][0]!r} and {source.name!r}; "
                    "a global step is resolved once across sources"
                )
            seen.setdefault(stage.id, (source.name, stage.step))
    global_step_order(config)
