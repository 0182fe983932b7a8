"""``gristmill calibrate``: per-language thresholds from reference text into a YAML.

Reads a pipeline config for its filters (their per-language parameters decide how the
signals are measured), one reference JSONL per language, and writes the thresholds at the
chosen quantile (:mod:`gristmill.pipelines.calibrate`, FineWeb-2's method).
"""

from __future__ import annotations

import argparse

from rich.console import Console


def calibrate_command(args: argparse.Namespace) -> int:
    from gristmill.pipelines.calibrate import (
        calibratable_steps,
        calibrate,
        iter_references,
        read_reference,
        write_calibration,
    )
    from gristmill.pipelines.config import load_config

    console = Console()
    config = load_config(args.config)
    steps = calibratable_steps(config)
    if args.steps:
        wanted = args.steps.split(",")
        missing = sorted(set(wanted) - set(steps))
        if missing:
            console.print(f"[red]error:[/] {args.config} has no calibratable step {missing}")
            return 2
        steps = {name: steps[name] for name in wanted}
    try:
        pairs = list(iter_references(args.reference))
        references = {
            lang: read_reference(path, args.text_field, args.max_docs) for lang, path in pairs
        }
    except (OSError, ValueError) as error:
        console.print(f"[red]error:[/] {error}")
        return 2
    result = calibrate(steps, references, args.quantile)
    sources = {lang: {"path": path, "documents": len(references[lang])} for lang, path in pairs}
    write_calibration(args.out, result, sources)
    for name, languages in result["steps"].items():
        for language, values in languages.items():
            console.print(f"{name} [bold]{language}[/]: {values}")
    console.print(f"calibration: [bold]{args.out}[/] (use it with `calibration: {args.out}`)")
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "calibrate",
        help="per-language filter thresholds from reference text (FineWeb-2's method)",
        description="Measure every calibratable filter signal of a pipeline on a reference "
        "corpus per language and write thresholds at the given quantile into a YAML that "
        "steps read with `calibration:`.",
    )
    parser.add_argument("config", help="pipeline YAML whose filters are calibrated")
    parser.add_argument(
        "--reference",
        action="append",
        required=True,
        metavar="LANG=PATH",
        help="reference JSONL (.gz) of a language; repeat per language",
    )
    parser.add_argument("--out", required=True, help="calibration YAML to write")
    parser.add_argument(
        "--quantile",
        type=float,
        default=0.02,
        help="share of the reference each threshold would remove (default 0.02)",
    )
    parser.add_argument("--steps", help="comma-separated step names (default: all)")
    parser.add_argument("--text-field", default="text")
    parser.add_argument("--max-docs", type=int, help="read at most this many per language")
    parser.set_defaults(handler=calibrate_command)
