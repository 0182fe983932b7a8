"""WARC → text throughput against datatrove, and main-text quality of the HTML extractors.

1. Throughput, one process: gristmill's ``WarcReader`` (FastWARC + resiliparse, defaults)
   against datatrove's ``WarcReader`` (warcio) followed by its default extractor
   (``Trafilatura()``: favour_precision, deduplicate, 1 s timeout in a sandbox process), on
   every WARC/ARC file of ``../shared/data/web/warc``, cycled ``--repeat`` times (passes of
   the two tools alternate, so machine noise hits both alike). Reported: MB/s of archive
   input (file sizes on disk) and documents/s. A file datatrove cannot read (it raises) is
   counted and skipped, keeping the documents it gave before.
2. Quality: the scrapinghub article-extraction benchmark (181 pages with gold
   ``articleBody``, ``../shared/data/web/html_extraction/scrapinghub_aeb``), scored as its
   ``evaluate.py`` does: tokens are ``\\w+`` runs, each page's true/false positives and
   false negatives over 4-token shingles are normalised to sum to 1, precision and recall
   are averaged over pages and F1 is taken of the averages. Also printed: the same with a
   bag of whitespace tokens. Every extractor gristmill offers is scored, and datatrove's
   default Trafilatura settings for reference.

Run with the bench environment (datatrove installed)::

    .venv-bench/bin/python bench/readers.py [--repeat 5]

Ends with ``RESULT warc_speedup_vs_datatrove=<x> f1=<resiliparse> f1_trafilatura=<y>``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from gristmill.io.base import ReaderCounts
from gristmill.io.html import EXTRACTORS, decode_html, extract_text
from gristmill.io.warc import WarcReader

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
_WORD = re.compile(r"\w+")


# -- throughput ------------------------------------------------------------------------------
def gristmill_pass(reader: WarcReader, files: list[str]) -> int:
    documents = 0
    for shard in reader.shards("web", files):
        for batch in reader.read(shard, ReaderCounts()):
            documents += batch.num_rows
    return documents


def datatrove_pass(root: Path, files: list[str], failures: Counter) -> int:
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.readers import WarcReader as DatatroveWarcReader

    def records() -> Iterator:
        for path in files:
            relative = str(Path(path).relative_to(root))
            reader = DatatroveWarcReader(data_folder=str(root), glob_pattern=relative)
            try:
                yield from reader.run()
            except Exception as error:  # datatrove ends the file (and, in a pipeline, the task)
                failures[f"{relative}: {type(error).__name__}"] += 1

    return sum(1 for _ in Trafilatura().run(records()))


def throughput(root: Path, repeat: int) -> dict[str, float]:
    reader = WarcReader()
    files = [shard.paths[0] for shard in reader.shards("web", [str(root)])]
    input_bytes = sum(Path(path).stat().st_size for path in files)
    failures: Counter = Counter()
    gristmill_pass(reader, files)  # warm-up: imports, caches
    datatrove_pass(root, files, Counter())
    seconds = {"gristmill": 0.0, "datatrove": 0.0}
    docs = {"gristmill": 0, "datatrove": 0}
    for _ in range(repeat):
        start = time.perf_counter()
        docs["gristmill"] += gristmill_pass(reader, files)
        seconds["gristmill"] += time.perf_counter() - start
        start = time.perf_counter()
        docs["datatrove"] += datatrove_pass(root, files, failures)
        seconds["datatrove"] += time.perf_counter() - start
    megabytes = input_bytes * repeat / 1e6
    print(f"input: {len(files)} files, {input_bytes / 1e6:.2f} MB, {repeat} passes")
    for tool in ("gristmill", "datatrove"):
        print(
            f"{tool:10s} {megabytes / seconds[tool]:7.2f} MB/s {docs[tool] / seconds[tool]:8.1f} docs/s"
            f"  ({docs[tool] // repeat} docs per pass, {seconds[tool] / repeat:.2f} s per pass)"
        )
    for failure, count in sorted(failures.items()):
        print(f"datatrove failed on {failure} ({count // repeat} per pass)")
    return {
        "speedup": seconds["datatrove"] / seconds["gristmill"],
        **{f"{tool}_mb_s": megabytes / seconds[tool] for tool in seconds},
        **{f"{tool}_docs_s": docs[tool] / seconds[tool] for tool in seconds},
    }


# -- quality ---------------------------------------------------------------------------------
def shingle_counts(text: str, n: int) -> Counter:
    tokens = _WORD.findall(text or "") if n > 1 else (text or "").split()
    return Counter(
        tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i : i + n]
    )


def page_scores(true: str, predicted: str, n: int) -> tuple[float, float, float]:
    """(tp, fp, fn) over shingles, normalised to sum to 1 (scrapinghub's evaluate.py)."""
    gold, found = shingle_counts(true, n), shingle_counts(predicted, n)
    tp = sum((gold & found).values())
    fp = sum((found - gold).values())
    fn = sum((gold - found).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def f1_score(rows: list[tuple[float, float, float]]) -> float:
    def precision(tp: float, fp: float, fn: float) -> float:
        if fp == fn == 0:
            return 1.0
        return 0.0 if tp == fp == 0 else tp / (tp + fp)

    def recall(tp: float, fp: float, fn: float) -> float:
        if fp == fn == 0:
            return 1.0
        return 0.0 if tp == fn == 0 else tp / (tp + fn)

    p = statistics.mean(precision(*row) for row in rows if row[0] + row[1] > 0)
    r = statistics.mean(recall(*row) for row in rows if row[0] + row[2] > 0)
    return 2 * p * r / (p + r)


def quality(root: Path) -> dict[str, float]:
    truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
    pages = {
        key: decode_html(gzip.decompress((root / "html" / f"{key}.html.gz").read_bytes()))[0]
        for key in truth
    }
    extractors: dict[str, Callable[[str], str]] = {
        name: (lambda html, name=name: extract_text(html, name)) for name in EXTRACTORS
    }
    try:
        from datatrove.pipeline.extractors import Trafilatura

        datatrove_default = Trafilatura()
        extractors["datatrove Trafilatura()"] = lambda html: datatrove_default.extract(html) or ""
    except ImportError:
        pass
    scores = {}
    for name, extract in extractors.items():
        start = time.perf_counter()
        predicted = {key: extract(html) for key, html in pages.items()}
        elapsed = time.perf_counter() - start
        shingles = f1_score([page_scores(truth[k]["articleBody"], predicted[k], 4) for k in truth])
        tokens = f1_score([page_scores(truth[k]["articleBody"], predicted[k], 1) for k in truth])
        print(
            f"{name:24s} F1={shingles:.3f} (scrapinghub, 4-shingles)  F1={tokens:.3f} "
            f"(whitespace tokens)  {elapsed / len(pages) * 1000:6.1f} ms/page"
        )
        scores[name] = shingles
    return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder")
    parser.add_argument("--repeat", type=int, default=5, help="passes over the WARC files")
    args = parser.parse_args()
    try:  # datatrove logs every file it opens; its handler is added when it is imported
        import datatrove.utils.logging  # noqa: F401
        from loguru import logger

        logger.remove()
    except ImportError:
        pass
    scores = quality(args.data / "web" / "html_extraction" / "scrapinghub_aeb")
    speed = throughput(args.data / "web" / "warc", args.repeat)
    print(
        f"RESULT warc_speedup_vs_datatrove={speed['speedup']:.2f} "
        f"f1={scores['resiliparse']:.3f} f1_trafilatura={scores['trafilatura']:.3f}"
    )


if __name__ == "__main__":
    main()
