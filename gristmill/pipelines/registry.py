"""Names usable in a pipeline YAML: input formats (readers) and steps.

A new step is one class in its stage package plus one line here. Classes are imported on
first use, so that a step's heavy dependencies load only when a config names it.

Steps of other packages join without editing this file: either a package declares them in
the ``gristmill.steps`` entry-point group (``my_step = "my_package.steps:MyStep"`` under
``[project.entry-points."gristmill.steps"]`` in its pyproject), or code decorates the class
with :func:`register_step`. The class must be importable by the Dask workers (a module of an
installed package, or one on their ``sys.path``).
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

READERS: dict[str, str] = {
    "warc": "gristmill.io.warc:WarcReader",
    "arc": "gristmill.io.warc:WarcReader",
    "wet": "gristmill.io.wet:WetReader",
    "jsonl": "gristmill.io.jsonl:JsonlReader",
    "parquet": "gristmill.io.columnar:ParquetReader",
    "arrow": "gristmill.io.columnar:ArrowReader",
    "books": "gristmill.io.books:BookReader",
    "code": "gristmill.io.code:CodeReader",
}

STEPS: dict[str, str] = {
    # quality filtering: language, perplexity, heuristics, keywords, classifier
    "normalize": "gristmill.filters.text_normalize:NormalizeText",
    "length": "gristmill.filters.length:TextLength",
    "lid": "gristmill.filters.language:LanguageID",
    "perplexity": "gristmill.filters.perplexity:Perplexity",
    "quality_classifier": "gristmill.filters.quality_classifier:QualityClassifier",
    "gopher_quality": "gristmill.filters.gopher_quality:GopherQuality",
    "gopher_repetition": "gristmill.filters.gopher_repetition:GopherRepetition",
    "c4": "gristmill.filters.c4:C4Quality",
    "fineweb": "gristmill.filters.fineweb:FineWebQuality",
    "chinese_quality": "gristmill.filters.chinese:ChineseQuality",
    "code_quality": "gristmill.filters.code_quality:CodeQuality",
    "book_quality": "gristmill.filters.book_quality:BookQuality",
    "keywords": "gristmill.filters.keywords:Keywords",
    "datatrove": "gristmill.filters.datatrove_adapter:DatatroveStep",
    # de-duplication: document and dataset level
    "exact_dedup": "gristmill.dedupe.exact:ExactDedup",
    "minhash": "gristmill.dedupe.minhash:MinHashDedup",
    # de-duplication: sentence level and decontamination
    "repetition": "gristmill.dedupe.repetition:RepeatedUnits",
    "span_dedup": "gristmill.dedupe.span_dedup:SpanDedup",
    "decontaminate": "gristmill.dedupe.decontamination:Decontaminate",
    # routing: each language through its own stage list (after lid)
    "route": "gristmill.pipelines.routing:LanguageRoute",
    # privacy reduction
    "pii": "gristmill.pii.step:PiiScrub",
}


#: the entry-point group through which installed packages add steps
ENTRY_POINT_GROUP = "gristmill.steps"


_plugins_loaded = False


def _add_entry_point_steps() -> None:
    global _plugins_loaded
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        STEPS.setdefault(entry_point.name, entry_point.value)
    _plugins_loaded = True


def known_steps() -> dict[str, str]:
    """Every step name: gristmill's own, decorated ones, and the installed packages'
    entry points (scanned on first use, not at import: the workers never need the scan)."""
    if not _plugins_loaded:
        _add_entry_point_steps()
    return STEPS


def register_step(name: str):
    """Class decorator: make a :class:`~gristmill.steps.Step` subclass usable as ``name`` in
    configs and pipelines (sets its ``name``, the prefix of its signals and reasons)."""

    def register(cls: type) -> type:
        known = STEPS.get(name)
        path = f"{cls.__module__}:{cls.__qualname__}"
        if known is not None and known != path:
            raise ValueError(f"step name {name!r} is already taken by {known}")
        cls.name = name
        STEPS[name] = path
        return cls

    return register


def _load(table: dict[str, str], name: str, kind: str) -> type:
    try:
        module_name, class_name = table[name].split(":")
    except KeyError:
        raise KeyError(f"unknown {kind} {name!r}; allowed: {', '.join(sorted(table))}") from None
    return getattr(importlib.import_module(module_name), class_name)


def reader_class(fmt: str) -> type:
    return _load(READERS, fmt, "format")


def step_class(name: str) -> type:
    return _load(known_steps(), name, "step")
