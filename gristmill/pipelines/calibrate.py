"""Thresholds per language from reference text: FineWeb-2's calibration, as a tool.

FineWeb-2 (Penedo et al. 2025) sets each filter's threshold per language from the
distribution of its signal on text trusted to be clean (Wikipedia, curated corpora): a
threshold is the value below which (for a minimum) or above which (for a maximum) a chosen
fraction of that reference falls. Given a reference corpus per language (JSONL with a
``text`` field) and a pipeline's filters, :func:`calibrate` computes every calibratable
signal on the reference (each filter's ``calibrated`` map names the parameter, its signal
and its side), with the filter's own per-language parameters (stop words, segmentation),
and writes a YAML that ``by_language`` steps read with ``calibration:``::

    quantile: 0.02
    references: {zh: {path: zh_wiki.jsonl, documents: 1104}}
    steps:
      gopher_quality:
        zh: {min_words: 119, min_mean_word_length: 1.6, max_mean_word_length: 2.46, ...}
    distributions:          # quantiles 0.00, 0.01 ... 1.00 of every signal, for the report
      gopher_quality:
        zh: {words: [...], mean_word_length: [...], ...}

Integer parameters are rounded outwards (down for a minimum, up for a maximum), so that
the chosen fraction is not exceeded. A signal that sits at its extreme on the reference
where the quantile falls (no ``#`` at all in Wikipedia: ``max_hash_ratio`` would become 0,
and one hashtag would drop a page) says nothing about where noise starts: that parameter
keeps the step's own value and is listed under ``skipped``.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import yaml

from gristmill.documents import make_batch
from gristmill.pipelines.config import RunConfig
from gristmill.pipelines.routing import LanguageRoute
from gristmill.steps import Filter, MapStep

#: quantiles stored for the report's reference distributions
DISTRIBUTION_POINTS = np.linspace(0.0, 1.0, 101)


def read_reference(
    path: str | Path, text_field: str = "text", limit: int | None = None
) -> list[str]:
    """Texts of a JSONL (optionally .gz) reference file."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    texts: list[str] = []
    with opener(path, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                text = json.loads(line)[text_field]
            except (json.JSONDecodeError, KeyError, TypeError) as error:
                raise ValueError(f"{path}:{number}: no {text_field!r} string ({error})") from None
            if isinstance(text, str) and text.strip():
                texts.append(text)
            if limit is not None and len(texts) >= limit:
                break
    return texts


def calibratable_steps(config: RunConfig) -> dict[str, MapStep]:
    """Step name → the configured step, for every step with a ``calibrated`` map in the
    config's sources (inside routes too; the first configuration of a name wins)."""
    found: dict[str, MapStep] = {}

    def visit(step: Any) -> None:
        if isinstance(step, LanguageRoute):
            for stages in step.stages.values():
                for _, inner in stages:
                    visit(inner)
        elif getattr(step, "calibrated", None) and step.name not in found:
            found[step.name] = step

    for source in config.sources:
        for stage in source.stages:
            visit(stage.step)
    return found


def signals_of(step: MapStep, texts: list[str], batch_docs: int = 1000) -> dict[str, np.ndarray]:
    """The step's signals on ``texts`` (filters: ``signals``; signal transforms: those of
    ``clean_batch``), concatenated over batches."""
    parts: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(texts), batch_docs):
        chunk = texts[start : start + batch_docs]
        size = len(chunk)
        batch = make_batch(
            [f"ref/{i}" for i in range(size)], "ref", chunk, [None] * size, [None] * size
        )
        measured = step.signals(batch) if isinstance(step, Filter) else step.clean_batch(batch)[3]
        for name, values in measured.items():
            if isinstance(values, pa.Array | pa.ChunkedArray):
                if not pa.types.is_floating(values.type) and not pa.types.is_integer(values.type):
                    continue
                values = values.to_numpy(zero_copy_only=False)
            parts.setdefault(name, []).append(np.asarray(values, dtype=np.float64))
    return {name: np.concatenate(chunks) for name, chunks in parts.items()}


def thresholds(
    step: MapStep, signals: dict[str, np.ndarray], quantile: float
) -> tuple[dict[str, float | int], list[str]]:
    """The step's calibrated parameters at ``quantile`` (minimum) / ``1 - quantile``, and
    the parameters skipped (no values, or the quantile at the signal's extreme)."""
    out: dict[str, float | int] = {}
    skipped: list[str] = []
    for parameter, (signal, side) in step.calibrated.items():
        values = signals.get(signal)
        values = values[~np.isnan(values)] if values is not None else np.zeros(0)
        if len(values) == 0:
            skipped.append(parameter)
            continue
        at = quantile if side == "min" else 1 - quantile
        value = float(np.quantile(values, at, method="inverted_cdf"))  # an observed value
        if value == (values.max() if side == "min" else values.min()):
            skipped.append(parameter)
            continue
        annotation = type(step).model_fields[parameter].annotation
        if "int" in str(annotation) and "float" not in str(annotation):
            out[parameter] = int(math.floor(value) if side == "min" else math.ceil(value))
        else:
            rounded = (math.floor if side == "min" else math.ceil)(value * 10_000) / 10_000
            out[parameter] = rounded
    return out, skipped


def calibrate(
    steps: dict[str, MapStep],
    references: dict[str, list[str]],
    quantile: float,
) -> dict[str, Any]:
    """Thresholds and signal distributions per step and language (the YAML's content)."""
    if not 0 <= quantile < 0.5:
        raise ValueError(f"quantile must lie in [0, 0.5), got {quantile}")
    result: dict[str, Any] = {"quantile": quantile, "steps": {}, "skipped": {}, "distributions": {}}
    for name, step in steps.items():
        for language, texts in references.items():
            variant = step.for_language(language) if hasattr(step, "for_language") else step
            measured = signals_of(variant, texts)
            values, skipped = thresholds(step, measured, quantile)
            result["steps"].setdefault(name, {})[language] = values
            result["skipped"].setdefault(name, {})[language] = skipped
            result["distributions"].setdefault(name, {})[language] = {
                signal: [
                    round(float(v), 4)
                    for v in np.quantile(values[~np.isnan(values)], DISTRIBUTION_POINTS)
                ]
                for signal, values in measured.items()
                if np.any(~np.isnan(values))
            }
    return result


def write_calibration(path: str | Path, result: dict[str, Any], sources: dict[str, Any]) -> None:
    """Write the calibration YAML (``sources``: per language, its path and document count)."""
    header = (
        "# Written by `gristmill calibrate`: thresholds at the "
        f"{result['quantile']} / {1 - result['quantile']:.4g} quantiles of reference text per\n"
        "# language (FineWeb-2's method). Read by steps with `calibration: <this file>`;\n"
        "# their by_language blocks override these values.\n"
    )
    body = {"quantile": result["quantile"], "references": sources, "steps": result["steps"],
            "skipped": result["skipped"], "distributions": result["distributions"]}  # fmt: skip
    text = yaml.safe_dump(
        body, allow_unicode=True, sort_keys=False, default_flow_style=None, width=100
    )
    Path(path).write_text(header + text, encoding="utf-8")


def iter_references(pairs: list[str]) -> Iterator[tuple[str, str]]:
    """``lang=path`` command-line pairs."""
    for pair in pairs:
        language, sep, path = pair.partition("=")
        if not sep or not language or not path:
            raise ValueError(f"--reference {pair!r}: expected LANG=PATH (e.g. zh=zh_wiki.jsonl)")
        yield language, path
