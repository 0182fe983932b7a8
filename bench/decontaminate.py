"""Decontamination recall, false removals, and throughput of decontamination and span dedup.

1. Recall: every GSM8K test question (1,319) and HumanEval prompt (164) of
   ``../shared/data/contamination`` is planted into a real CommonCrawl page (dolma sample),
   three ways: verbatim; with whitespace and case changed (upper/lower/title case, doubled
   spaces, line breaks, tabs for indentation); and partially (a contiguous half of its
   words or lines). The pages run through ``decontaminate`` (GSM8K + HumanEval + PIQA, the
   defaults: 13-grams, 200-character windows) on the embedded Dask cluster. A plant is
   recalled when its document was dropped, or edited with a match of the planted benchmark
   and the planted snippet is gone from it.
   Short questions: 400 PIQA goals (``goal``, its question field) of 3 to 7 tokens, too
   short for an n-gram, planted as a line of their own (bare, or after ``Q:``,
   ``Question:`` or a number, as a quiz page shows them): ``decont_recall_short``; and the
   same goals inside a sentence of prose, which must not be removed (``short_in_prose``).
2. False removals: the 31 clean Gutenberg novels (one document per book, as the books
   reader gives them) through the same step: the share of their characters removed or
   dropped.
3. Throughput per core, in one process, CPU time: ``collect`` + ``apply`` of
   ``decontaminate`` and of ``span_dedup`` (resolve done in memory, timed apart) over the
   planted web corpus, in docs/s and MB/s; the CPU time (workers and client) of each full
   run on the cluster; and, when datatrove is installed, its ``SentenceDedup`` (signature,
   find, filter: its three steps called directly, as ours are) on the same documents (the
   first 1,024): CPU seconds of this process and its children, best of two alternating
   runs after a warm-up run of each, with the documents and bytes each removes.

Ends with ``RESULT recall_verbatim=<r> recall_normalized=<r> false_removal_rate=<f>
decont_recall_short=<r> short_in_prose_removed=<f> span_dedup_cpu_ratio_vs_datatrove=<datatrove
CPU time / span_dedup CPU time, or nan>``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import sys
import tempfile
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import yaml
from cluster_cpu import cluster_cpu_seconds, own_cpu_seconds

from gristmill.dedupe.decontamination import Decontaminate
from gristmill.dedupe.ngrams import tokenize
from gristmill.dedupe.span_dedup import SpanDedup, _repeated_windows
from gristmill.documents import text_bytes
from gristmill.io.writers import read_table
from gristmill.pipelines.config import load_config
from gristmill.pipelines.runner import dask_client, run_pipeline

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CONTAMINATION = SHARED / "contamination"
VARIANTS = ("verbatim", "normalized", "partial")
SHORT_VARIANTS = ("short", "short_in_prose")
SHORT_PLANTS = 400
QUIZ_LABELS = ("", "Q: ", "Question: ", "1. ", "12) ")


def benchmark_items() -> list[tuple[str, str, str]]:
    """``(benchmark, item id, text)`` of the GSM8K questions and HumanEval prompts."""
    items = []
    with (CONTAMINATION / "gsm8k" / "test.jsonl").open() as handle:
        for number, line in enumerate(handle):
            items.append(("gsm8k", str(number), json.loads(line)["question"]))
    with gzip.open(CONTAMINATION / "humaneval" / "HumanEval.jsonl.gz", "rt") as handle:
        for line in handle:
            record = json.loads(line)
            items.append(("humaneval", record["task_id"], record["prompt"]))
    return items


def short_piqa_goals(rng: random.Random) -> list[tuple[str, str]]:
    """``(item id, goal)`` of PIQA goals of 3 to 7 tokens (the step's tokens), sampled."""
    goals = [
        (str(number), json.loads(line)["goal"])
        for number, line in enumerate((CONTAMINATION / "piqa" / "valid.jsonl").open())
    ]
    sizes = np.diff(tokenize([goal for _, goal in goals]).offsets)
    short = [item for item, size in zip(goals, sizes, strict=True) if 3 <= size < 8]
    return rng.sample(short, min(SHORT_PLANTS, len(short)))


def host_pages() -> list[str]:
    folder = SHARED / "web" / "jsonl" / "dolma"
    pages = []
    with gzip.open(folder / "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz", "rt") as f:
        pages.extend(json.loads(line)["text"] for line in f)
    for path in sorted(folder.glob("cc_en_head-*.jsonl")):
        pages.extend(json.loads(line)["text"] for line in path.open())
    return [page for page in pages if len(page) > 500]


def change_whitespace_and_case(rng: random.Random, text: str, is_code: bool) -> str:
    case = rng.choice((str.upper, str.lower, str.title))
    if is_code:
        text = re.sub(r"(?m)^(    )+", lambda m: "\t" * (len(m.group()) // 4), text)
        return case(text.replace(", ", ",  "))
    words = text.split()
    joiners = [rng.choice((" ", "  ", "\n", " \t ")) for _ in words[1:]]
    return case(words[0] + "".join(j + w for j, w in zip(joiners, words[1:], strict=True)))


def partial(rng: random.Random, text: str, is_code: bool) -> str:
    units = text.splitlines() if is_code else text.split()
    size = max(1, len(units) // 2)
    start = rng.randrange(0, len(units) - size + 1)
    return ("\n" if is_code else " ").join(units[start : start + size])


def plant(rng: random.Random, host: str, snippet: str) -> str:
    paragraphs = host.split("\n")
    position = rng.randrange(1, len(paragraphs)) if len(paragraphs) > 1 else 1
    return "\n".join(paragraphs[:position] + ["", snippet, ""] + paragraphs[position:])


def write_planted(
    folder: Path, shards: int, seed: int = 5
) -> dict[str, tuple[str, str, str, str]]:
    """Planted web pages as JSONL shards; ``{url: (variant, benchmark, item, snippet)}``."""
    rng = random.Random(seed)
    hosts = host_pages()
    folder.mkdir(parents=True)
    handles = [(folder / f"web-{i:02d}.jsonl").open("w") for i in range(shards)]
    planted = {}
    count = 0
    for benchmark, item, text in benchmark_items():
        is_code = benchmark == "humaneval"
        for variant in VARIANTS:
            if variant == "verbatim":
                snippet = text
            elif variant == "normalized":
                snippet = change_whitespace_and_case(rng, text, is_code)
            else:
                snippet = partial(rng, text, is_code)
            url = f"planted/{variant}/{benchmark}/{item}"
            page = plant(rng, hosts[count % len(hosts)], snippet)
            handles[count % shards].write(json.dumps({"text": page, "url": url}) + "\n")
            planted[url] = (variant, benchmark, item, snippet)
            count += 1
    for item, goal in short_piqa_goals(rng):
        for variant in SHORT_VARIANTS:
            if variant == "short":
                snippet = rng.choice(QUIZ_LABELS) + goal
            else:
                snippet = f"Last week my neighbour told me how to {goal[0].lower()}{goal[1:]} and it worked."
            url = f"planted/{variant}/piqa/{item}"
            page = plant(rng, hosts[count % len(hosts)], snippet)
            handles[count % shards].write(json.dumps({"text": page, "url": url}) + "\n")
            planted[url] = (variant, "piqa", item, snippet)
            count += 1
    for handle in handles:
        handle.close()
    return planted


def benchmark_specs() -> list[dict[str, str]]:
    return [
        {"name": "gsm8k", "path": str(CONTAMINATION / "gsm8k" / "test.jsonl")},
        {"name": "humaneval", "path": str(CONTAMINATION / "humaneval" / "HumanEval.jsonl.gz")},
        {"name": "piqa", "path": str(CONTAMINATION / "piqa" / "valid.jsonl")},
    ]


def run_config(tmp: Path, workers: int, stages: list, out: str) -> dict:
    data = {
        "output": str(tmp / out),
        "write_rejected": True,
        "sources": [
            {"name": "web", "paths": [str(tmp / "web")], "format": "jsonl", "stages": stages},
            {"name": "books", "paths": [str(SHARED / "books" / "gutenberg")], "format": "books",
             "stages": stages},
        ],
    }  # fmt: skip
    path = tmp / f"{out}.yaml"
    path.write_text(yaml.safe_dump(data))
    with dask_client(workers=workers) as client:
        client.wait_for_workers(workers)
        started, cpu_started = time.perf_counter(), cluster_cpu_seconds(client)
        run = run_pipeline(load_config(path), client, resume=False)
        run["bench_wall_s"] = time.perf_counter() - started
        run["bench_cpu_s"] = cluster_cpu_seconds(client) - cpu_started
    return run


def recall(tmp: Path, out: str, planted: dict[str, tuple[str, str, str, str]]) -> dict:
    """Share of plants removed: the document was dropped, or edited with a match of the
    planted benchmark and no longer holds the planted snippet. ``item`` counts only those
    attributed to the planted item (identical-looking items, such as HumanEval/56 and /61,
    are attributed to the first)."""
    outcome: dict[str, tuple[list, str | None]] = {}
    for path in (tmp / out / "data" / "web").glob("*.arrow"):
        for row in read_table(str(path)).select(["url", "text", "meta"]).to_pylist():
            meta = json.loads(row["meta"]) if row["meta"] else {}
            outcome[row["url"]] = (meta.get("decontamination", []), row["text"])
    for path in (tmp / out / "rejected" / "web").rglob("*.arrow"):
        for row in read_table(str(path)).select(["url", "contamination"]).to_pylist():
            outcome[row["url"]] = (json.loads(row["contamination"] or "[]"), None)
    hits: dict[tuple[str, str], list[int]] = {}
    for url, (variant, benchmark, item, snippet) in planted.items():
        records, text = outcome[url]
        removed = any(m["benchmark"] == benchmark for m in records) and (
            text is None or snippet not in text
        )
        attributed = removed and any(m["item"] == item for m in records)
        for key in ((variant, benchmark), (variant, "all")):
            hits.setdefault(key, []).append(int(removed))
            hits.setdefault(key + ("item",), []).append(int(attributed))
    return {key: sum(values) / len(values) for key, values in hits.items()}


def books_false_removals(run: dict) -> tuple[float, dict]:
    stages = {s["stage"]: s for s in run["sources"]["books"]["stages"]}
    stage = stages["decontaminate"]
    removed_chars = stage["bytes_in"] - stage["bytes_out"]
    return removed_chars / stage["bytes_in"], stage


def read_batches(folder: Path, batch_docs: int = 1024) -> list[pa.Table]:
    from gristmill.documents import make_batch

    rows = [json.loads(line) for path in sorted(folder.glob("*.jsonl")) for line in path.open()]
    batches = []
    for start in range(0, len(rows), batch_docs):
        chunk = rows[start : start + batch_docs]
        ids = [f"web/bench/{start + i}" for i in range(len(chunk))]
        batches.append(make_batch(ids, "web", [r["text"] for r in chunk],
                                  [r["url"] for r in chunk], [None] * len(chunk)))  # fmt: skip
    return batches


def throughput_decontaminate(batches: list[pa.Table]) -> dict:
    step = Decontaminate(benchmarks=tuple(benchmark_specs()))  # type: ignore[arg-type]
    step.index()  # built once per worker process; not part of the per-document cost
    started = time.process_time()
    signatures = [step.collect(batch) for batch in batches]
    collect_s = time.process_time() - started
    state: dict[str, set[int]] = {}
    for table in signatures:
        for doc_id, ngram in zip(table.column("id").to_pylist(), table.column("ngram").to_pylist(), strict=True):  # fmt: skip
            if ngram:
                state.setdefault(doc_id, set()).add(ngram)
    started = time.process_time()
    for batch in batches:
        step.apply(batch, state, "decontaminate")
    apply_s = time.process_time() - started
    return {"collect_s": collect_s, "apply_s": apply_s}


def throughput_span_dedup(batches: list[pa.Table]) -> dict:
    step = SpanDedup()
    started = time.process_time()
    signatures = []
    for batch in batches:
        table = step.collect(batch)
        signatures.append(table.append_column("priority", pa.array([0] * table.num_rows, pa.int32()))
                          .append_column("shard", pa.array(["s"] * table.num_rows)))  # fmt: skip
    collect_s = time.process_time() - started
    started = time.process_time()
    frame = pa.concat_tables(signatures).to_pandas()
    removals = _repeated_windows(frame[frame["position"] >= 0])
    state = {doc_id: group.to_numpy() for doc_id, group in removals.groupby("id")["position"]}
    resolve_s = time.process_time() - started
    started = time.process_time()
    dropped = kept_bytes = 0
    for batch in batches:
        result = step.apply(batch, state, "span_dedup")
        dropped += 0 if result.rejected is None else result.rejected.num_rows
        kept_bytes += text_bytes(result.kept)
    apply_s = time.process_time() - started
    return {"collect_s": collect_s, "apply_s": apply_s, "resolve_s": resolve_s,
            "dropped": dropped, "kept_bytes": kept_bytes}  # fmt: skip


def datatrove_sentence_dedup(batches: list[pa.Table], folder: Path) -> dict | None:
    """datatrove's SentenceDedup (signature, find, filter: its three steps called directly in
    this process, as ours are, without an executor), or None when it is not installed:
    ``{"dropped": documents, "kept_bytes": UTF-8 bytes of the texts kept}``."""
    try:
        from datatrove.data import Document
        from datatrove.pipeline.dedup import (
            SentenceDedupFilter,
            SentenceDedupSignature,
            SentenceFindDedups,
        )
        from datatrove.pipeline.dedup.sentence_dedup import SentDedupConfig
        from datatrove.utils.hashing import HashConfig
    except ImportError as error:
        print(f"datatrove SentenceDedup not measured: {error}")
        return None

    def documents() -> Iterator:
        for batch in batches:
            ids, texts = batch.column("id").to_pylist(), batch.column("text").to_pylist()
            yield from (Document(text=text, id=i) for i, text in zip(ids, texts, strict=True))

    signatures, dups = str(folder / "sigs"), str(folder / "dups")
    # n_sentences=3, min_doc_words=50 as span_dedup; its xxhash path fails on str input with
    # xxhash>=3.5 ("Strings must be encoded before hashing"), so sha1 (64 bits) is used
    config = SentDedupConfig(hash_config=HashConfig(precision=64, hash_fc="sha1"))
    for step, data in (
        (SentenceDedupSignature(output_folder=signatures, config=config), documents()),
        (SentenceFindDedups(data_folder=signatures, output_folder=dups, config=config), None),
    ):
        output = step(data, 0, 1)
        if output is not None:
            deque(output, maxlen=0)
    count = sum(batch.num_rows for batch in batches)
    kept = [len(doc.text.encode("utf-8")) for doc in
            SentenceDedupFilter(data_folder=dups, config=config)(documents(), 0, 1)]  # fmt: skip
    return {"dropped": count - len(kept), "kept_bytes": sum(kept)}


def compare_with_datatrove(batches: list[pa.Table], tmp: Path, rounds: int = 2) -> float | None:
    """span_dedup against datatrove's SentenceDedup on the same documents: CPU seconds
    (this process and its children), best of ``rounds`` alternating runs after a warm-up run
    of each, and what each removes."""
    if datatrove_sentence_dedup(batches, tmp / "dt-warm") is None:
        return None
    throughput_span_dedup(batches)
    best = {"gristmill": float("inf"), "datatrove": float("inf")}
    outcome: dict[str, dict] = {}
    for round_number in range(rounds):
        for name in best:
            started = own_cpu_seconds()
            if name == "gristmill":
                outcome[name] = throughput_span_dedup(batches)
            else:
                outcome[name] = datatrove_sentence_dedup(batches, tmp / f"dt-{round_number}")  # type: ignore[assignment]
            best[name] = min(best[name], own_cpu_seconds() - started)
    docs = sum(batch.num_rows for batch in batches)
    size = sum(text_bytes(batch) for batch in batches)
    for name, result in outcome.items():
        print(f"  {name:>9} on {docs} documents ({size / 1e6:.1f} MB): {best[name]:.2f} s CPU, "
              f"{result['dropped']} documents dropped, {1 - result['kept_bytes'] / size:.2%} of "
              f"the bytes removed")  # fmt: skip
    ratio = best["datatrove"] / best["gristmill"]
    print(f"  datatrove SentenceDedup CPU time / gristmill span_dedup: {ratio:.1f}")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shards", type=int, default=8)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    if not SHARED.is_dir():
        sys.exit("../shared/data is needed for this benchmark")

    with tempfile.TemporaryDirectory(prefix="gristmill-decontaminate-") as name:
        tmp = Path(name)
        planted = write_planted(tmp / "web", args.shards)
        print(f"planted {len(planted)} documents (GSM8K/HumanEval items x {len(VARIANTS)} variants, "
              f"PIQA short goals x {len(SHORT_VARIANTS)})")  # fmt: skip

        stage = {"decontaminate": {"benchmarks": benchmark_specs()}}
        run = run_config(tmp, args.workers, [stage], "out")
        rates = recall(tmp, "out", planted)
        for variant in VARIANTS:
            print(f"recall {variant:<10} gsm8k {rates[(variant, 'gsm8k')]:.4f}  humaneval "
                  f"{rates[(variant, 'humaneval')]:.4f}  all {rates[(variant, 'all')]:.4f}  "
                  f"(attributed to the planted item: {rates[(variant, 'all', 'item')]:.4f})")  # fmt: skip
        print(f"short PIQA goals (3-7 tokens) on a line of their own: recall "
              f"{rates[('short', 'all')]:.4f}; inside a sentence: removed "
              f"{rates[('short_in_prose', 'all')]:.4f}")  # fmt: skip
        per_benchmark = run["global_steps"]["decontaminate"]["benchmarks"]
        print("per benchmark: " + "; ".join(
            f"{name}: {stats['items']} items, {stats['ngrams']} n-grams, "
            f"{stats['questions_whole_line']} whole-line questions, "
            f"{stats['texts_too_short']} texts too short" for name, stats in per_benchmark.items()))  # fmt: skip
        false_rate, books = books_false_removals(run)
        print(f"books: {books['docs_in']} documents, {books['bytes_in'] / 1e6:.1f} MB; "
              f"{books['counters'].get('docs_matched', 0)} matched, removed {dict(books['removed'])}, "
              f"{false_rate:.6f} of their characters removed")  # fmt: skip
        summary = run["global_steps"]["decontaminate"]
        print(f"decontaminate on {args.workers} worker(s): {run['bench_cpu_s']:.1f} s CPU, {run['bench_wall_s']:.1f} s wall "
              f"(resolve {summary['wall_s']:.1f} s), {summary['ngrams_common']} common n-grams ignored")  # fmt: skip

        span_run = run_config(tmp, args.workers, [{"span_dedup": {}}], "out-span")
        web = {s["stage"]: s for s in span_run["sources"]["web"]["stages"]}["span_dedup"]
        print(f"span_dedup on {args.workers} worker(s): {span_run['bench_cpu_s']:.1f} s CPU, {span_run['bench_wall_s']:.1f} s wall "
              f"(resolve {span_run['global_steps']['span_dedup']['wall_s']:.1f} s); web: "
              f"{web['counters']}, removed {web['removed']}")  # fmt: skip

        batches = read_batches(tmp / "web")
        docs = sum(batch.num_rows for batch in batches)
        megabytes = sum(text_bytes(batch) for batch in batches) / 1e6
        print(f"per core (CPU time of one process), {docs} web documents, {megabytes:.1f} MB:")
        for label, timing in (
            ("decontaminate", throughput_decontaminate(batches)),
            ("span_dedup", throughput_span_dedup(batches)),
        ):
            seconds = timing["collect_s"] + timing["apply_s"]
            extra = f", in-memory resolve {timing['resolve_s']:.2f} s" if "resolve_s" in timing else ""
            print(f"  {label:<14} collect {timing['collect_s']:.2f} s + apply {timing['apply_s']:.2f} s"
                  f" = {docs / seconds:,.0f} docs/s, {megabytes / seconds:.2f} MB/s{extra}")  # fmt: skip

        # datatrove's sentence splitter is slow: compare on the first batch
        print("span dedup against datatrove's SentenceDedup, same documents, CPU time:")
        peer_ratio = compare_with_datatrove(batches[:1], tmp)

    print(
        f"RESULT recall_verbatim={rates[('verbatim', 'all')]:.4f} "
        f"recall_normalized={rates[('normalized', 'all')]:.4f} "
        f"false_removal_rate={false_rate:.6f} "
        f"decont_recall_short={rates[('short', 'all')]:.4f} "
        f"short_in_prose_removed={rates[('short_in_prose', 'all')]:.4f} "
        f"span_dedup_cpu_ratio_vs_datatrove={'nan' if peer_ratio is None else f'{peer_ratio:.1f}'}"
    )


if __name__ == "__main__":
    main()
