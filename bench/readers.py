"""WARC reader speed against datatrove, and main-text extractors: speed and quality.

Everything is timed in CPU seconds of this process (``time.process_time``), so the numbers
hold on a shared machine; passes of the compared tools alternate.

1. Reader speed, same extractor on both sides: gristmill's ``WarcReader`` (FastWARC,
   default extractor) against datatrove's ``WarcReader`` (warcio) whose documents (raw
   HTML) go through the same gristmill extractor. Equal work: every WARC/ARC file of
   ``../shared/data/web/warc`` is read once by both (the warm-up), and only the files on
   which both give the same documents (url and text, in order) are timed, ``--repeat``
   alternating passes; the others are listed with each side's document count (the two
   readers' policies differ on resource records, HTTP error statuses and charsets, and
   datatrove raises on the truncated ARC file). Reported: MB/s of archive input per CPU
   second and the ratio of CPU times (``reader_cpu_ratio_vs_datatrove``: datatrove's time
   over gristmill's).
2. Extractors on two gold sets (:mod:`bench.main_text_gold`): the hand-labelled WARC pages
   (articles and other pages) and the scrapinghub article benchmark. For each extractor:
   snippet precision/recall/F1 per set (trafilatura's measure, the one of issue 19), the
   scrapinghub shingle F1, and CPU time over the pages of both sets (MB of HTML per CPU
   second, each warmed on one page first). Extractors: resiliparse's main-content heuristics alone, trafilatura as
   gristmill calls it, trafilatura with datatrove's ``Trafilatura()`` settings
   (favour_precision, deduplicate), gristmill's default (``resiliparse_boilerplate``), and
   the default with trafilatura on the pages it marks doubtful (its rate is printed).

Run with the bench environment (datatrove installed)::

    .venv-bench/bin/python bench/readers.py [--repeat 20]

Ends with ``RESULT reader_cpu_ratio_vs_datatrove=… f1_default=… precision_default=…
f1_trafilatura=… extractor_speed_ratio_vs_trafilatura=…``; the F1 and precision there are
the lower of the two gold sets' (an extractor must hold on both).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.main_text_gold import (  # noqa: E402
    GoldPage,
    SnippetScore,
    scrapinghub_pages,
    shingle_f1,
    snippet_score,
    warc_pages,
)
from gristmill.io.base import ReaderCounts  # noqa: E402
from gristmill.io.html import (  # noqa: E402
    DEFAULT_EXTRACTOR,
    extract,
    extract_text,
    trafilatura_text,
)
from gristmill.io.warc import WarcReader  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


# -- reader speed ----------------------------------------------------------------------------
def gristmill_documents(reader: WarcReader, path: str) -> list[tuple[str | None, str]]:
    documents = []
    for shard in reader.shards("web", [path]):
        for batch in reader.read(shard, ReaderCounts()):
            urls, texts = batch.column("url").to_pylist(), batch.column("text").to_pylist()
            documents.extend(zip(urls, texts, strict=True))
    return documents


def datatrove_documents(root: Path, path: str) -> list[tuple[str | None, str]]:
    """datatrove's WarcReader on one file, its HTML documents extracted by gristmill's
    default; raises what datatrove raises (in a pipeline it ends the task)."""
    from datatrove.pipeline.readers import WarcReader as DatatroveWarcReader

    relative = str(Path(path).relative_to(root))
    reader = DatatroveWarcReader(data_folder=str(root), glob_pattern=relative)
    documents = []
    for document in reader.run():
        text = extract_text(document.text, DEFAULT_EXTRACTOR)
        if text:
            documents.append((document.metadata.get("url"), text))
    return documents


def reader_speed(root: Path, repeat: int) -> float:
    """CPU time of datatrove's reader over gristmill's on the files where both give the same
    documents (url and text, in order): equal work. The other files are listed with what
    each reader gives (their policies differ: resource records, HTTP statuses, charsets)."""
    reader = WarcReader()
    files = [shard.paths[0] for shard in reader.shards("web", [str(root)])]
    equal = []
    print(f"\nreader outputs per file ({DEFAULT_EXTRACTOR} on both sides):")
    for path in files:  # also the warm-up of both sides
        ours = gristmill_documents(reader, path)
        try:
            theirs, failure = datatrove_documents(root, path), ""
        except Exception as error:  # noqa: BLE001 - datatrove's failure is reported
            theirs, failure = [], f", datatrove raises {type(error).__name__}"
        if ours == theirs and not failure:
            equal.append(path)
        else:
            same = len(set(ours) & set(theirs))
            print(f"  differ  {Path(path).relative_to(root)}: gristmill {len(ours)} documents, "
                  f"datatrove {len(theirs)}, {same} identical{failure}")  # fmt: skip
    input_bytes = sum(Path(path).stat().st_size for path in equal)
    documents = sum(len(gristmill_documents(reader, path)) for path in equal)
    seconds = {"gristmill": 0.0, "datatrove": 0.0}
    for _ in range(repeat):  # passes alternate
        start = time.process_time()
        for path in equal:
            gristmill_documents(reader, path)
        seconds["gristmill"] += time.process_time() - start
        start = time.process_time()
        for path in equal:
            datatrove_documents(root, path)
        seconds["datatrove"] += time.process_time() - start
    megabytes = input_bytes * repeat / 1e6
    print(f"reader speed on the {len(equal)} files where both give the same {documents} "
          f"documents ({input_bytes / 1e6:.2f} MB), {repeat} passes, CPU time:")  # fmt: skip
    for tool in ("gristmill", "datatrove"):
        print(f"  {tool:10s} {megabytes / seconds[tool]:7.2f} MB/s, {seconds[tool] / repeat:.3f} s per pass")
    return seconds["datatrove"] / seconds["gristmill"]


# -- extractors ------------------------------------------------------------------------------
def extractors() -> dict[str, Callable[[str], str]]:
    from trafilatura import extract as trafilatura_extract

    def default(html: str) -> str:
        extraction = extract(html, DEFAULT_EXTRACTOR)
        default.doubtful += extraction.doubtful  # type: ignore[attr-defined]
        return extraction.text

    def default_with_trafilatura(html: str) -> str:
        extraction = extract(html, DEFAULT_EXTRACTOR, doubtful_fallback="trafilatura")
        default_with_trafilatura.doubtful += extraction.extractor == "trafilatura"  # type: ignore[attr-defined]
        return extraction.text

    default.doubtful = default_with_trafilatura.doubtful = 0  # type: ignore[attr-defined]

    def datatrove_settings(html: str) -> str:
        text = trafilatura_extract(
            html, favor_precision=True, include_comments=False, deduplicate=True
        )
        return text or ""

    chosen: dict[str, Callable[[str], str]] = {
        "resiliparse": lambda html: extract_text(html, "resiliparse"),
        # trafilatura alone: extract_text(html, "trafilatura") gives the same text but also
        # measures the page with resiliparse (page_chars), which is not trafilatura's work
        "trafilatura": lambda html: trafilatura_text(html).strip(),
        "trafilatura (datatrove settings)": datatrove_settings,
        f"{DEFAULT_EXTRACTOR} (default)": default,
        "default, trafilatura if doubtful": default_with_trafilatura,
    }
    return chosen


def score_extractors(gold_sets: dict[str, list[GoldPage]]) -> dict[str, dict]:
    pages = [page for pages in gold_sets.values() for page in pages]
    html_megabytes = sum(len(page.html.encode("utf-8")) for page in pages) / 1e6
    results: dict[str, dict] = {}
    print(f"\nextractors on {len(pages)} pages ({html_megabytes:.1f} MB of HTML), CPU time")
    header = "  ".join(f"{name}: P / R / F1" for name in gold_sets)
    print(f"  {'extractor':34s} {header}  scrapinghub shingle F1   MB/s")
    for name, extractor in extractors().items():
        extractor(pages[0].html)  # warm up: lazy imports and compiled patterns
        if hasattr(extractor, "doubtful"):
            extractor.doubtful = 0  # type: ignore[attr-defined]
        start = time.process_time()
        texts = {key: [extractor(page.html) for page in gold] for key, gold in gold_sets.items()}
        seconds = time.process_time() - start
        scores = {key: snippet_score(gold_sets[key], texts[key]) for key in gold_sets}
        shingles = shingle_f1([p.gold_text for p in gold_sets["scrapinghub"]], texts["scrapinghub"])
        results[name] = {"scores": scores, "seconds": seconds, "texts": texts}
        cells = "  ".join(
            f"{score.precision:.3f} / {score.recall:.3f} / {score.f1:.3f}"
            for score in scores.values()
        )
        print(f"  {name:34s} {cells}  {shingles:.3f}  {html_megabytes / seconds:10.2f}")
        if hasattr(extractor, "doubtful"):
            print(f"  {'':34s} doubtful pages: {extractor.doubtful / len(pages):.1%}")
    warc = gold_sets["warc"]
    for kind in ("article", "other"):
        chosen = [i for i, page in enumerate(warc) if page.kind == kind]
        line = []
        for name in ("resiliparse", "trafilatura", f"{DEFAULT_EXTRACTOR} (default)"):
            score = SnippetScore()
            for i in chosen:
                score.add(warc[i], results[name]["texts"]["warc"][i])
            line.append(
                f"{name.split()[0]} {score.precision:.3f}/{score.recall:.3f}/{score.f1:.3f}"
            )
        print(f"  warc {kind} pages ({len(chosen)}), P/R/F1: " + ", ".join(line))
    return results


def option_sweep(gold_sets: dict[str, list[GoldPage]]) -> None:
    """The choices behind the default, one at a time: resiliparse's options, the boilerplate
    stage on the main-content pass or on the whole page, and the doubtful-page rule."""
    from resiliparse.extract.html2text import extract_plain_text

    from gristmill.io import html as html_module
    from gristmill.io.boilerplate import classify, join_blocks, parse_blocks

    def plain(**options: object) -> Callable[[str], str]:
        return lambda html: extract_plain_text(html, **options)

    def blocks(main_content: bool) -> Callable[[str], str]:
        def run(html: str) -> str:
            minimal = extract_plain_text(html, main_content=main_content, **html_module._MINIMAL)
            return join_blocks([b for b in classify(parse_blocks(minimal)) if b.label == "good"])

        return run

    def doubtful_rule(share: float, chars: int) -> Callable[[str], str]:
        def run(html: str) -> str:
            saved = html_module.DOUBTFUL_SHARE, html_module.DOUBTFUL_CHARS
            html_module.DOUBTFUL_SHARE, html_module.DOUBTFUL_CHARS = share, chars
            try:
                return extract_text(html)
            finally:
                html_module.DOUBTFUL_SHARE, html_module.DOUBTFUL_CHARS = saved

        return run

    def threshold(name: str, value: float) -> Callable[[str], str]:
        from gristmill.io import boilerplate

        def run(html: str) -> str:
            saved = getattr(boilerplate, name)
            setattr(boilerplate, name, value)
            try:
                return extract_text(html)
            finally:
                setattr(boilerplate, name, saved)

        return run

    variants = {
        "resiliparse, all text": plain(main_content=False),
        "resiliparse main_content (library defaults)": plain(main_content=True),
        "  + alt_texts=False": plain(main_content=True, alt_texts=False),
        "  + comments=False, post_meta=False": plain(
            main_content=True, alt_texts=False, comments=False, post_meta=False
        ),
        "  + list_bullets=False": plain(
            main_content=True, alt_texts=False, comments=False, post_meta=False, list_bullets=False
        ),
        "  + links=True": plain(
            main_content=True, alt_texts=False, comments=False, post_meta=False, links=True
        ),
        "boilerplate stage on the whole page": blocks(False),
        "boilerplate stage on main content only": blocks(True),
        "  + doubtful: share < 0.1 (any length)": doubtful_rule(0.1, 10**9),
        "  + doubtful: share < 0.1 and < 250 chars (default)": doubtful_rule(0.1, 250),
        "  + doubtful: share < 0.3 and < 250 chars": doubtful_rule(0.3, 250),
    }
    for name, values in (
        ("MAX_LINK_DENSITY", (0.3, 0.5)),
        ("MAX_PROSE_LINK_DENSITY", (0.6, 0.9)),
        ("PROSE_CHARS", (60, 120)),
        ("GOOD_CHARS", (150, 300)),
        ("SHORT_CHARS", (15, 40)),
    ):
        for value in values:
            variants[f"  classifier {name}={value}"] = threshold(name, value)
    print("\noptions, one choice at a time: " + "  ".join(f"{k}: P / R / F1" for k in gold_sets))
    for name, extractor in variants.items():
        scores = [
            snippet_score(pages, [extractor(p.html) for p in pages]) for pages in gold_sets.values()
        ]
        cells = "  ".join(f"{s.precision:.3f} / {s.recall:.3f} / {s.f1:.3f}" for s in scores)
        print(f"  {name:52s} {cells}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, default=DATA, help="the shared data folder")
    parser.add_argument("--repeat", type=int, default=20, help="passes over the WARC files")
    parser.add_argument("--show", action="store_true", help="print the default's misses")
    parser.add_argument("--options", action="store_true", help="score the option choices")
    args = parser.parse_args()
    try:  # datatrove logs every file it opens; its handler is added when it is imported
        import datatrove.utils.logging  # noqa: F401
        from loguru import logger

        logger.remove()
    except ImportError:
        pass
    web = args.data / "web"
    gold_sets = {
        "warc": warc_pages(web / "warc"),
        "scrapinghub": scrapinghub_pages(web / "html_extraction" / "scrapinghub_aeb"),
    }
    if args.options:
        option_sweep(gold_sets)
    results = score_extractors(gold_sets)
    default = results[f"{DEFAULT_EXTRACTOR} (default)"]
    trafilatura = results["trafilatura"]
    if args.show:
        for score in default["scores"].values():
            print("\n".join(f"  missed  {s}" for s in score.missed))
            print("\n".join(f"  leaked  {s}" for s in score.leaked))
    ratio = reader_speed(web / "warc", args.repeat)
    print(
        f"RESULT reader_cpu_ratio_vs_datatrove={ratio:.2f} "
        f"f1_default={min(s.f1 for s in default['scores'].values()):.3f} "
        f"precision_default={min(s.precision for s in default['scores'].values()):.3f} "
        f"f1_trafilatura={min(s.f1 for s in trafilatura['scores'].values()):.3f} "
        f"extractor_speed_ratio_vs_trafilatura={trafilatura['seconds'] / default['seconds']:.2f}"
    )


if __name__ == "__main__":
    main()
