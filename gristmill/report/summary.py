"""Terminal summaries: a run's funnel per source and stage, and a look inside shard files."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pyarrow as pa
from rich.console import Console
from rich.table import Table

from gristmill.io.writers import MARKER_SUFFIX, SUFFIXES, read_table
from gristmill.report.writer import RUN_FILE
from gristmill.storage import url_to_fs


def print_run_summary(run: dict[str, Any], console: Console) -> None:
    """One table: per source and stage, documents in/out and the main removal reasons."""
    table = Table(title=f"gristmill run · {run.get('output', '')}", show_lines=False)
    for column in ("source", "stage", "docs in", "docs out", "MB out", "removed (top reasons)"):
        table.add_column(column, justify="right" if column.startswith(("docs", "MB")) else "left")
    for source, data in run["sources"].items():
        for stage in data["stages"]:
            reasons = sorted(stage["removed"].items(), key=lambda item: -item[1])[:3]
            table.add_row(
                source,
                stage["stage"],
                f"{stage['docs_in']:,}",
                f"{stage['docs_out']:,}",
                f"{stage['bytes_out'] / 1e6:,.2f}",
                ", ".join(f"{reason} {count:,}" for reason, count in reasons),
            )
    console.print(table)
    sample = ((run.get("tokenizer") or {}).get("training") or {}).get("sample") or {}
    for warning in sample.get("warnings", []):
        console.print(f"[bold yellow]warning:[/] {warning}")
    mixture = run.get("mixture")
    if mixture and "weight_tolerance" in mixture.get("plan", {}):
        from gristmill.mixture.manifest import plan_table

        console.print(plan_table(mixture["plan"], mixture.get("weights_origin", "")))
    for warning in run.get("warnings", ()):
        console.print(f"[yellow]warning[/]: {warning}", markup=True, highlight=False)


def print_comparison(rows: list[dict[str, Any]], console: Console) -> None:
    table = Table(title="run A vs run B")
    for column in ("source", "stage", "docs out A", "docs out B", "B − A"):
        table.add_column(column, justify="right" if "docs" in column or "−" in column else "left")
    for row in rows:
        table.add_row(
            row["source"],
            row["stage"],
            "–" if row["docs_out_a"] is None else f"{row['docs_out_a']:,}",
            "–" if row["docs_out_b"] is None else f"{row['docs_out_b']:,}",
            f"{row['change']:+,}",
        )
    console.print(table)


def inspect_path(path: str, docs: int, console: Console) -> None:
    """Summarise a run folder (``run.json``) or show the schema and documents of shards;
    a mixture shard (or ``out/shards/``) shows rows decoded with the run's tokenizer."""
    from gristmill.mixture.shard_view import shard_manifest

    found = shard_manifest(path)
    if found is not None:
        print_mixture_rows(*found, docs, console)
        return
    fs, root = url_to_fs(path)
    run_file = f"{root.rstrip('/')}/{RUN_FILE}"
    if fs.isdir(root) and fs.exists(run_file):
        with fs.open(run_file) as handle:
            print_run_summary(json.load(handle), console)
        if fs.exists(f"{root.rstrip('/')}/manifest.json"):
            from gristmill.mixture.manifest import describe_manifest

            console.print(describe_manifest(path))
        root = f"{root.rstrip('/')}/data"
    files = _shard_files(fs, root)
    if not files:
        console.print(f"no shard files under {path}")
        return
    total = 0
    schema: pa.Schema | None = None
    first: pa.Table | None = None
    for file in files:
        table = read_table(fs.unstrip_protocol(file) if "://" in path else file)
        total += table.num_rows
        schema = schema or table.schema
        if first is None and table.num_rows:
            first = table
    console.print(f"[bold]{len(files)}[/] shard file(s), [bold]{total:,}[/] documents")
    console.print(str(schema))
    if first is None:
        return
    for row in first.slice(0, docs).to_pylist():
        text = row.pop("text", "") or ""
        console.rule(str(row.get("id")))
        console.print({k: v for k, v in row.items() if k != "id"})
        console.print(textwrap.shorten(text, 600, placeholder=" …"))


def print_mixture_rows(manifest: dict, root: str, shard: str, rows: int, console: Console) -> None:
    """Rows of a mixture shard, decoded with the tokenizer the manifest names (token ids
    when it cannot be loaded)."""
    from gristmill.mixture.shard_view import describe_rows
    from gristmill.tokenize.model import load_tokenizer

    tokenizer = manifest["tokenizer"]
    decode = None
    try:
        loaded = load_tokenizer(
            f"{root.rstrip('/')}/{tokenizer['path']}", tokenizer["backend"], tokenizer["sha256"]
        )
        decode = loaded.decode
    except (OSError, ValueError) as error:
        console.print(f"[yellow]tokenizer not loaded ({error}); showing token ids[/]")
    console.print(describe_rows(manifest, root, shard, rows, decode))


def _shard_files(fs, root: str) -> list[str]:
    suffixes = tuple(SUFFIXES.values())
    if not fs.isdir(root):
        return [root] if Path(root).name.endswith(suffixes) else []
    return sorted(
        f
        for f in fs.find(root)
        if f.endswith(suffixes) and not f.endswith(MARKER_SUFFIX) and ".tmp-" not in f
    )
