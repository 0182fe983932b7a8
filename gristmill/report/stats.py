"""``report/stats.json``: the numbers of a run, per stage and per source.

Derived from ``run.json`` alone (no data is re-read): documents and bytes in/out, removals
by reason, extra counters, signal histograms with fixed bins and the thresholds the steps
apply, wall/CPU time and throughput per stage, tokens per source when the tokenizer ran,
and the tokenizer and mixture summaries.
"""

from __future__ import annotations

import importlib
from typing import Any

from gristmill.pipelines.signal_stats import bin_edges

STATS_VERSION = 1


def build_stats(run: dict[str, Any]) -> dict[str, Any]:
    thresholds = stage_thresholds(run.get("config", {}))
    references = stage_references(run.get("config", {}))
    tokens = tokens_per_source(run)
    sources: dict[str, Any] = {}
    for name, source in run["sources"].items():
        stages = []
        for stage in source["stages"]:
            wall = stage["wall_s"]
            signals = {}
            removed = stage.get("signals_removed", {})
            for column, summary in stage.get("signals", {}).items():
                signal = column[len(stage["stage"]) + 1 :]
                entry = dict(summary)
                if summary["kind"] == "numeric":
                    entry["edges"] = [_finite(e) for e in bin_edges(summary)]
                    entry["removed_bins"] = (removed.get(column) or {}).get("bins", {})
                entry["thresholds"] = (
                    thresholds.get(name, {}).get(stage["stage"], {}).get(signal, [])
                )
                reference = references.get(name, {}).get(stage["stage"], {}).get(signal)
                if reference and summary["kind"] == "numeric":
                    entry["reference"] = reference
                signals[column] = entry
            stages.append(
                {
                    "stage": stage["stage"],
                    "docs_in": stage["docs_in"],
                    "docs_out": stage["docs_out"],
                    "bytes_in": stage["bytes_in"],
                    "bytes_out": stage["bytes_out"],
                    "removed": stage["removed"],
                    "removed_total": sum(stage["removed"].values()),
                    "counters": stage["counters"],
                    "wall_s": stage["wall_s"],
                    "cpu_s": stage["cpu_s"],
                    "docs_per_s": round(stage["docs_in"] / wall, 1) if wall > 0 else None,
                    "mb_per_s": round(stage["bytes_in"] / 1e6 / wall, 3) if wall > 0 else None,
                    "signals": signals,
                    "samples": stage.get("samples", {}),
                }
            )
        sources[name] = {
            "shards": source["shards"],
            "docs_in": source["docs_in"],
            "docs_out": source["docs_out"],
            "tokens": tokens.get(name),
            "stages": stages,
        }
    return {
        "stats_version": STATS_VERSION,
        "gristmill_version": run.get("gristmill_version"),
        "config_fingerprint": run.get("config_fingerprint"),
        "output": run.get("output"),
        "started": run.get("started"),
        "wall_s": run.get("wall_s"),
        "totals": {
            "docs_in": sum(s["docs_in"] for s in sources.values()),
            "docs_out": sum(s["docs_out"] for s in sources.values()),
            "bytes_out": sum(s["stages"][-1]["bytes_out"] for s in sources.values() if s["stages"]),
        },
        "sources": sources,
        "global_steps": run.get("global_steps", {}),
        "warnings": run.get("warnings", []),
        "tokenizer": run.get("tokenizer"),
        "mixture": run.get("mixture"),
        "config": run.get("config"),
    }


def _finite(value: float) -> float | None:
    return None if value in (float("inf"), float("-inf")) else value


def tokens_per_source(run: dict[str, Any]) -> dict[str, int]:
    """Tokens per source written by the tokenizer stage's encoding."""
    encoding = (run.get("tokenizer") or {}).get("encoding") or {}
    return {
        name: int(entry["tokens"])
        for name, entry in (encoding.get("sources") or {}).items()
        if isinstance(entry, dict) and isinstance(entry.get("tokens"), int | float)
    }


def stage_references(config: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Source → stage → signal → {language: quantiles 0..1} of the reference text the
    stage's thresholds were calibrated on (``calibration:``, written by gristmill
    calibrate); stages without a readable calibration file have none."""
    import yaml

    found: dict[str, dict[str, dict[str, Any]]] = {}
    for source in config.get("sources", []):
        for stage in source.get("stages", []):
            path = (stage.get("params") or {}).get("calibration")
            if not path:
                continue
            try:
                with open(path, encoding="utf-8") as handle:
                    data = yaml.safe_load(handle)
                per_language = data["distributions"][stage["step"]]
            except (OSError, KeyError, TypeError, yaml.YAMLError):
                continue
            signals: dict[str, Any] = {}
            for language, quantiles in per_language.items():
                for signal, values in quantiles.items():
                    signals.setdefault(signal, {})[language] = values
            found.setdefault(source["name"], {})[stage["id"]] = signals
    return found


def stage_thresholds(config: dict[str, Any]) -> dict[str, dict[str, dict[str, list[float]]]]:
    """Rebuild each configured step from the run's config and ask for its thresholds."""
    from gristmill.pipelines.registry import known_steps

    found: dict[str, dict[str, dict[str, list[float]]]] = {}
    for source in config.get("sources", []):
        per_stage: dict[str, dict[str, list[float]]] = {}
        for stage in source.get("stages", []):
            target = known_steps().get(stage["step"])
            if target is None:
                continue
            module_name, class_name = target.split(":")
            try:
                step = getattr(importlib.import_module(module_name), class_name)(**stage["params"])
            except Exception:  # a step that cannot be rebuilt here simply has no marks
                continue
            marks = getattr(step, "thresholds", lambda: {})()
            per_stage[stage["id"]] = {
                k: [float(v) for v in vs if v is not None] for k, vs in marks.items()
            }
        found[source["name"]] = per_stage
    return found
