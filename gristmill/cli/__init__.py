"""The ``gristmill`` command line: run a pipeline, inspect shards or a run, run the demo."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from pathlib import Path
from typing import NoReturn

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from gristmill import __version__

console = Console(stderr=True)


def stdout_console() -> Console:
    """A console for tables on stdout: the terminal's width on a terminal, and wide enough
    for every column when written to a log or a pipe (rich would cut it at 80)."""
    if sys.stdout.isatty():
        return Console()
    return Console(width=400)


#: Modules that add subcommands: each has ``register(commands)`` which adds its parsers
#: and sets ``handler=callable(args) -> int`` on them (``parser.set_defaults``).
COMMAND_MODULES: list[str] = [
    "gristmill.cli.tokenizer",
    "gristmill.cli.mixture",
    "gristmill.cli.lm",
    "gristmill.cli.classifier",
    "gristmill.cli.steps",
    "gristmill.cli.init",
    "gristmill.cli.calibrate",
]


def _cluster_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("cluster")
    group.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes of the embedded LocalCluster (default: the config's "
        "'workers', else the number of CPU cores)",
    )
    group.add_argument(
        "--scheduler", metavar="ADDRESS", help="attach to a running Dask scheduler (tcp://...)"
    )
    group.add_argument(
        "--scheduler-file", metavar="FILE", help="attach through a Dask scheduler file"
    )
    dashboard = group.add_mutually_exclusive_group()
    dashboard.add_argument(
        "--dashboard",
        dest="dashboard",
        action="store_true",
        default=None,
        help="serve the Dask dashboard of the embedded cluster and print its link (default: "
        "only when stderr is a terminal, as it costs bokeh's start-up)",
    )
    dashboard.add_argument(
        "--no-dashboard", dest="dashboard", action="store_false", help="serve no dashboard"
    )
    resume = parser.add_mutually_exclusive_group()
    resume.add_argument(
        "--resume",
        dest="resume",
        action="store_true",
        default=True,
        help="skip shards already done with the same config (default)",
    )
    resume.add_argument(
        "--fresh",
        dest="resume",
        action="store_false",
        help="delete what an earlier run wrote in the output folder and start over (a "
        "folder that is not a gristmill output is refused; other files are left alone)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gristmill",
        description="Prepare LLM pretraining data: read raw shards, filter, deduplicate, "
        "scrub PII, tokenize and mix, as a Dask dataflow.",
    )
    parser.add_argument("--version", action="version", version=f"gristmill {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run a pipeline config",
        description="Run the pipeline described by a YAML config (see README).",
    )
    run.add_argument("config", help="pipeline YAML file")
    run.add_argument("--output", help="override the config's output folder")
    run.add_argument(
        "--dedup-index",
        metavar="PATH",
        help="dataset-level dedup: deduplicate against the index at PATH (documents of "
        "earlier runs) and add this run to it; sets the `index` of every dedup stage",
    )
    _cluster_arguments(run)

    inspect = commands.add_parser(
        "inspect",
        help="summarise a run folder or a shard file",
        description="Show a run's per-stage counts (a folder with run.json), or the schema, "
        "row count and first documents of a shard file or folder of shards.",
    )
    inspect.add_argument("path")
    inspect.add_argument("-n", "--docs", type=int, default=3, help="documents to show")

    report = commands.add_parser(
        "report",
        help="regenerate a run's report, or compare two runs",
        description="Rebuild RUN_DIR/report/ (stats.json, report.html, charts) from run.json "
        "without re-running anything. With two folders, compare the runs stage by stage.",
    )
    report.add_argument("run_dir")
    report.add_argument("other_run_dir", nargs="?")
    report.add_argument(
        "--out",
        help="folder for the comparison page (it writes compare.html there), or a path "
        "ending in .html (default: A/report/)",
    )

    demo = commands.add_parser(
        "demo",
        help="build a small corpus from the Python installation and run the demo preset",
        description="Builds web (pydoc HTML in WARC), code (standard library sources) and "
        "books (documentation prose) sources locally, needing no download, and runs the "
        "demo preset on them.",
    )
    demo.add_argument("--out", default="demo-out", help="folder for the corpus and the output")
    _cluster_arguments(demo)

    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(commands)
    return parser


def program() -> NoReturn:
    """The ``gristmill`` console script and ``python -m gristmill``: :func:`main`, then an
    exit that skips the interpreter's teardown (:mod:`gristmill.process_exit`, about 0.3
    CPU s with Dask, pandas and numba loaded). :func:`main` itself returns, for callers in
    Python."""
    from gristmill.process_exit import exit_now

    exit_now(main())


def main(argv: list[str] | None = None) -> int:
    """Run one command; Ctrl-C ends it with exit code 130 and a resume hint, no traceback."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        console.print(
            "[yellow]interrupted[/]: a pipeline run keeps the shards it finished; run the "
            "same command again (without --fresh) to resume from them"
        )
        return 130


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    # Dask's INFO chatter (workers starting, shuffles) would bury the progress display;
    # the environment variable reaches the worker processes too.
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")
    logging.basicConfig(level=logging.WARNING)
    from gristmill.mixture.weights import MixtureError
    from gristmill.pipelines.config import ConfigError
    from gristmill.pipelines.output_folder import OutputFolderError
    from gristmill.pipelines.source_checks import SourceYieldedNothing
    from gristmill.tokenize.config import TokenizerTrainingError

    try:
        if getattr(args, "handler", None) is not None:
            return args.handler(args)
        if args.command == "run":
            return _run(args.config, args, output=args.output)
        if args.command == "inspect":
            from gristmill.report.summary import inspect_path

            inspect_path(args.path, args.docs, stdout_console())
            return 0
        if args.command == "report":
            return _report(args)
        if args.command == "demo":
            from gristmill.pipelines.demo import prepare_demo

            config_path = prepare_demo(Path(args.out))
            console.print(f"demo corpus and config written under [bold]{args.out}[/]")
            return _run(str(config_path), args)
    except (ConfigError, FileNotFoundError, MixtureError, OutputFolderError,
            TokenizerTrainingError, SourceYieldedNothing) as error:  # fmt: skip
        # an expected failure: a clear message, no traceback
        shown = (
            (ConfigError, "config error", "\n", 2),
            (MixtureError, "mixture error:", " ", 2),
            (OutputFolderError, "output folder:", " ", 2),
            (TokenizerTrainingError, "tokenizer error:", " ", 2),
            (SourceYieldedNothing, "run failed:", " ", 1),
            (FileNotFoundError, "error:", " ", 2),
        )
        label, separator, code = next(
            (label, separator, code)
            for kind, label, separator, code in shown
            if isinstance(error, kind)
        )
        console.print(f"[red]{label}[/]{separator}{error}")
        return code
    return 1


def _report(args: argparse.Namespace) -> int:
    from gristmill.report.summary import print_comparison
    from gristmill.report.writer import compare_runs, write_report

    if args.other_run_dir is None:
        console.print(f"report: [bold]{write_report(args.run_dir)}[/]")
        return 0
    rows, page = compare_runs(args.run_dir, args.other_run_dir)
    target = Path(args.out) if args.out else Path(args.run_dir) / "report"
    if target.suffix.lower() not in (".html", ".htm"):
        target = target / "compare.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    print_comparison(rows, stdout_console())
    console.print(f"comparison: [bold]{target}[/]")
    return 0


def wants_dashboard(requested: bool | None) -> bool:
    """``--dashboard`` / ``--no-dashboard``, else a dashboard only for someone watching a
    terminal: a batch run's log gains nothing from it but bokeh's start-up cost."""
    return requested if requested is not None else console.is_terminal


def _dashboard_link(client) -> str | None:
    """The cluster's dashboard link; None when it serves none."""
    try:
        return client.dashboard_link or None
    except (KeyError, TypeError):  # an attached scheduler without a dashboard
        return None


def _run(config_path: str, args: argparse.Namespace, output: str | None = None) -> int:
    from gristmill.pipelines.config import load_config, with_dedup_index
    from gristmill.pipelines.output_folder import claimed_output
    from gristmill.pipelines.runner import (
        RunFailed,
        available_cores,
        dask_client,
        oversubscription_warning,
        run_pipeline,
    )
    from gristmill.report.summary import print_run_summary
    from gristmill.report.writer import write_report

    config = load_config(config_path, output=output)
    if getattr(args, "dedup_index", None):
        config = with_dedup_index(config, args.dedup_index)
    cores = available_cores()
    workers = args.workers or config.workers or cores
    if not (args.scheduler or args.scheduler_file):
        origin = "--workers" if args.workers else f"'workers' in {config.source_file}"
        warning = oversubscription_warning(workers, origin, cores)
        if warning:
            console.print(f"[yellow]warning:[/] {warning}")
    dashboard = wants_dashboard(args.dashboard)
    # the output folder is claimed (locked, checked, emptied for --fresh) before a cluster
    # is started, so a busy or foreign folder is refused at once
    with (
        claimed_output(config.output, fresh=not args.resume) as foreign,
        dask_client(workers, args.scheduler, args.scheduler_file, dashboard) as client,
    ):
        if foreign and not args.resume:
            console.print(f"--fresh left alone what gristmill did not write: {', '.join(foreign)}")
        link = _dashboard_link(client) if dashboard else None
        if link:
            console.print(f"Dask dashboard: {link}")
        with Progress(
            TextColumn("[bold]phase {task.fields[phase]}[/]"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[shards]} shards · {task.fields[size]} · "
                       "{task.fields[rate]} docs/s · {task.fields[skipped]} resumed"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("[dim]{task.fields[label]}[/]"),
            console=console,
        ) as progress:  # fmt: skip
            bars: dict[int, int] = {}

            def show(state) -> None:
                # by input bytes when they are known (one huge shard still moves), else shards
                by_bytes = state.bytes_total > 0
                total = state.bytes_total if by_bytes else state.total
                completed = state.bytes_done if by_bytes else state.done
                if state.phase not in bars:
                    bars[state.phase] = progress.add_task(
                        "", total=total, phase=state.phase, rate="0", skipped=0, shards="",
                        size="", label=state.label,
                    )  # fmt: skip
                progress.update(
                    bars[state.phase],
                    total=total,
                    completed=completed,
                    shards=f"{state.done}/{state.total}",
                    size=f"{state.bytes_done / 1e6:,.1f}/{state.bytes_total / 1e6:,.1f} MB",
                    rate=f"{state.docs_per_s:,.0f}",
                    skipped=state.skipped,
                )

            try:
                run = run_pipeline(
                    config, client, resume=args.resume, on_progress=show, output_claimed=True
                )
            except RunFailed as error:
                console.print(f"[red]run failed[/]: {error}")
                return 1
    print_run_summary(run, stdout_console())
    console.print(f"output: [bold]{config.output}[/]")
    console.print(f"report: [bold]{write_report(config.output)}[/]")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
