"""Write a run's report folder and compare two runs."""

from __future__ import annotations

import html
import json
import posixpath
from typing import Any

import pyarrow as pa

from gristmill.pipelines.stats import SAMPLE_CHARS
from gristmill.report.html import STYLE, render_report
from gristmill.report.stats import build_stats
from gristmill.storage import url_to_fs

RUN_FILE = "run.json"
REPORT_DIR = "report"


def load_run(run_dir: str) -> dict[str, Any]:
    fs, root = url_to_fs(run_dir)
    path = posixpath.join(root, RUN_FILE)
    if not fs.exists(path):
        raise FileNotFoundError(f"{run_dir} has no {RUN_FILE}: is it a gristmill output folder?")
    with fs.open(path) as handle:
        return json.load(handle)


def write_report(run_dir: str) -> str:
    """Write ``<run_dir>/report/{stats.json,report.html,*.png}``; returns the HTML path,
    with the run folder's scheme (``s3://...``) when it has one."""
    run = load_run(run_dir)
    stats = build_stats(run)
    add_duplicate_pairs(stats, run_dir, (run.get("config") or {}).get("output_format", "arrow"))
    page, charts = render_report(stats)
    fs, root = url_to_fs(run_dir)
    folder = posixpath.join(root, REPORT_DIR)
    fs.makedirs(folder, exist_ok=True)
    with fs.open(posixpath.join(folder, "stats.json"), "w") as handle:
        json.dump(stats, handle, indent=2, ensure_ascii=False, allow_nan=False, default=str)
    for name, png in charts.items():
        with fs.open(posixpath.join(folder, name), "wb") as handle:
            handle.write(png)
    page_path = posixpath.join(folder, "report.html")
    with fs.open(page_path, "w", encoding="utf-8") as handle:
        handle.write(page)
    if "://" in run_dir:
        return posixpath.join(run_dir.rstrip("/"), REPORT_DIR, "report.html")
    return page_path


def add_duplicate_pairs(stats: dict[str, Any], run_dir: str, output_format: str) -> None:
    """Give each sampled duplicate the start of the document it duplicates (read from that
    document's output shard), so the report shows the pairs side by side. The kept copy's
    text is the one in the output: scrubbed when the run scrubs PII."""
    from gristmill.io.writers import SUFFIXES

    wanted: dict[str, list[dict[str, Any]]] = {}
    for source in stats["sources"].values():
        for stage in source["stages"]:
            for documents in stage.get("samples", {}).values():
                for document in documents:
                    if document.get("duplicate_of"):
                        wanted.setdefault(document["duplicate_of"], []).append(document)
    shards: dict[str, set[str]] = {}
    for kept_id in wanted:
        source, _, rest = kept_id.partition("/")
        shard = rest.rpartition("/")[0]
        if source and shard:
            shards.setdefault(f"{source}/{shard}", set()).add(kept_id)
    for shard_key, ids in sorted(shards.items())[:20]:
        source, _, shard = shard_key.partition("/")
        url = posixpath.join(run_dir, "data", source, shard + SUFFIXES[output_format])
        try:
            texts = _texts_of(url, ids)
        except (OSError, ValueError, KeyError):
            continue  # an index document or an unreadable shard: no pair to show
        for kept_id, text in texts.items():
            for document in wanted[kept_id]:
                document["duplicate_of_text"] = text[:SAMPLE_CHARS]


def _texts_of(url: str, ids: set[str]) -> dict[str, str]:
    """The texts of ``ids`` in one output shard, streamed in batches and stopping once all
    are found (a shard can be gigabytes; a report needs a few documents of it)."""
    from gristmill.io.writers import iter_arrow_batches
    from gristmill.storage import open_url

    found: dict[str, str] = {}
    if url.endswith(".arrow"):
        batches = (b.select(["id", "text"]) for b in iter_arrow_batches(url, 4096))
    elif url.endswith(".parquet"):
        import pyarrow.parquet as pq

        handle = open_url(url, "rb").open()
        batches = (pa.Table.from_batches([b]) for b in
                   pq.ParquetFile(handle).iter_batches(4096, columns=["id", "text"]))  # fmt: skip
    else:
        with open_url(url, "rt", compression="gzip") as lines:
            for line in lines:
                row = json.loads(line)
                if row.get("id") in ids:
                    found[row["id"]] = row["text"]
                    if len(found) == len(ids):
                        break
        return found
    for batch in batches:
        # matched in Python: building an Arrow array from Python objects would make pyarrow
        # import pandas (0.2 CPU s of the client's start-up) to check what it was given
        texts = batch.column("text")
        for row, doc_id in enumerate(batch.column("id").to_pylist()):
            if doc_id in ids:
                found[doc_id] = texts[row].as_py()
        if len(found) == len(ids):
            break
    return found


def compare_runs(run_a: str, run_b: str) -> tuple[list[dict[str, Any]], str]:
    """Per source and stage, documents in/out and removals of A and B, and their change."""
    stats = [build_stats(load_run(run_a)), build_stats(load_run(run_b))]
    rows: list[dict[str, Any]] = []
    names = list(dict.fromkeys([*stats[0]["sources"], *stats[1]["sources"]]))
    for name in names:
        stages_a = {s["stage"]: s for s in stats[0]["sources"].get(name, {}).get("stages", [])}
        stages_b = {s["stage"]: s for s in stats[1]["sources"].get(name, {}).get("stages", [])}
        for stage in dict.fromkeys([*stages_a, *stages_b]):
            a, b = stages_a.get(stage, {}), stages_b.get(stage, {})
            rows.append(
                {
                    "source": name,
                    "stage": stage,
                    "docs_out_a": a.get("docs_out"),
                    "docs_out_b": b.get("docs_out"),
                    "change": (b.get("docs_out") or 0) - (a.get("docs_out") or 0),
                    "removed_a": a.get("removed", {}),
                    "removed_b": b.get("removed", {}),
                }
            )
    cells = "".join(
        f"<tr><td>{html.escape(r['source'])}</td><td>{html.escape(r['stage'])}</td>"
        f"<td class='n'>{r['docs_out_a'] if r['docs_out_a'] is not None else '–'}</td>"
        f"<td class='n'>{r['docs_out_b'] if r['docs_out_b'] is not None else '–'}</td>"
        f"<td class='n'>{r['change']:+,}</td>"
        f"<td>{html.escape(_reasons(r['removed_a']))}</td><td>{html.escape(_reasons(r['removed_b']))}</td></tr>"
        for r in rows
    )
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><style>{STYLE}</style>"
        "<title>gristmill run comparison</title></head><body><h1>Run comparison</h1>"
        f"<p>A: <code>{html.escape(run_a)}</code><br>B: <code>{html.escape(run_b)}</code></p>"
        "<table><tr><th>source</th><th>stage</th><th>docs out A</th><th>docs out B</th>"
        f"<th>B − A</th><th>removed A</th><th>removed B</th></tr>{cells}</table></body></html>"
    )
    return rows, page


def _reasons(removed: dict[str, int]) -> str:
    return ", ".join(f"{reason} {count:,}" for reason, count in sorted(removed.items()))
