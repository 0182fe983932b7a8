"""Heuristic filters against datatrove: decision agreement and speed, plus language-ID accuracy.

1. Documents from ``../shared/data``: the dolma CommonCrawl JSONL sample (web), the main
   text of the HTML pages of the WARC files (gristmill's ``WarcReader``, resiliparse
   extraction), and the Gutenberg books (``BookReader``) split into chunks of about 10,000
   characters at paragraph breaks (``--book-chunks`` per book; 0 = all of them).
2. datatrove's ``GopherQualityFilter``, ``GopherRepetitionFilter``, ``C4QualityFilter`` and
   ``FineWebQualityFilter`` (default parameters, English spaCy word tokenizer) decide on
   every document; so do gristmill's ``gopher_quality``, ``gopher_repetition``, ``c4`` and
   ``fineweb`` steps, in batches of 1,024 documents as the runner feeds them. A document
   agrees when all four keep/drop decisions agree; disagreements are listed with
   gristmill's signals. The text C4 keeps is compared too.
3. Throughput of the four together, one process, same documents: datatrove runs its four
   filters on each document in turn (its per-document pipeline, spaCy's tokenization
   cached across filters as datatrove does); gristmill runs its four steps on each batch.
   Wall and CPU seconds are both reported; the speed-up is taken on CPU time, which is
   steadier on a shared machine.
4. Language-ID macro accuracy of the ``lid`` step on lingua's 74k labelled sentences
   (``gristmill.filters.language_eval``, as ``bench/language.py`` reports it); ``nan``
   when the step or its model is not available.

Ends with ``RESULT agreement=<fraction> speedup_vs_datatrove=<x> lid_macro_accuracy=<fraction>``.
"""

from __future__ import annotations

import argparse
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from gristmill.documents import make_batch
from gristmill.filters.c4 import C4Quality
from gristmill.filters.fineweb import FineWebQuality
from gristmill.filters.gopher_quality import GopherQuality
from gristmill.filters.gopher_repetition import GopherRepetition
from gristmill.io.base import ReaderCounts
from gristmill.io.books import BookReader
from gristmill.io.jsonl import JsonlReader
from gristmill.io.warc import WarcReader
from gristmill.steps import REASON_COLUMN

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LINGUA = DATA / "multilingual" / "lingua" / "sentences.jsonl"
BATCH = 1024
CHUNK_CHARS = 10_000
FILTERS = ("gopher_quality", "gopher_repetition", "c4", "fineweb")


@dataclass
class Document:
    id: str
    text: str


@dataclass
class Decisions:
    """Per filter, one reason per document (None = kept); C4's kept text; timings."""

    reasons: dict[str, list[str | None]] = field(default_factory=dict)
    c4_text: list[str | None] = field(default_factory=list)
    signals: dict[str, dict[str, list]] = field(default_factory=dict)
    wall: float = 0.0
    cpu: float = 0.0


def read_source(reader, name: str, paths: list[str]) -> list[Document]:
    documents = []
    for shard in reader.shards(name, paths):
        for batch in reader.read(shard, ReaderCounts()):
            documents.extend(
                Document(doc_id, text)
                for doc_id, text in zip(batch.column("id").to_pylist(),
                                        batch.column("text").to_pylist(), strict=True)
            )  # fmt: skip
    return documents


def book_chunks(books: list[Document], per_book: int) -> list[Document]:
    """Split books at paragraph breaks into chunks of about ``CHUNK_CHARS`` characters."""
    chunks = []
    for book in books:
        current: list[str] = []
        size = 0
        parts = []
        for paragraph in book.text.split("\n\n"):
            current.append(paragraph)
            size += len(paragraph)
            if size >= CHUNK_CHARS:
                parts.append("\n\n".join(current))
                current, size = [], 0
        if current:
            parts.append("\n\n".join(current))
        if per_book:
            parts = parts[:per_book]
        chunks.extend(Document(f"{book.id}/chunk{i}", text) for i, text in enumerate(parts))
    return chunks


def load_documents(per_book: int) -> dict[str, list[Document]]:
    web = read_source(JsonlReader(), "web", [str(DATA / "web" / "jsonl" / "dolma")])
    warc = read_source(WarcReader(), "warc", [str(DATA / "web" / "warc")])
    books = read_source(BookReader(), "books", [str(DATA / "books" / "gutenberg")])
    return {"web jsonl": web, "warc pages": warc, "book chunks": book_chunks(books, per_book)}


def run_datatrove(documents: list[Document]) -> Decisions:
    from datatrove.data import Document as DatatroveDocument
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
    )
    from datatrove.utils.text import split_into_words

    filters = {
        "gopher_quality": GopherQualityFilter(),
        "gopher_repetition": GopherRepetitionFilter(),
        "c4": C4QualityFilter(),
        "fineweb": FineWebQualityFilter(),
    }
    split_into_words("Warm up the spaCy tokenizer. It loads once.")
    result = Decisions(reasons={name: [] for name in filters})
    wall, cpu = time.perf_counter(), time.process_time()
    for document in documents:
        for name, step in filters.items():
            doc = DatatroveDocument(text=document.text, id=document.id)
            verdict = step.filter(doc)
            keep, reason = verdict if isinstance(verdict, tuple) else (verdict, None)
            result.reasons[name].append(None if keep else (reason or "dropped"))
            if name == "c4":
                result.c4_text.append(doc.text if keep else None)
    result.wall, result.cpu = time.perf_counter() - wall, time.process_time() - cpu
    return result


def run_gristmill(documents: list[Document]) -> Decisions:
    steps = {
        "gopher_quality": GopherQuality(),
        "gopher_repetition": GopherRepetition(),
        "fineweb": FineWebQuality(),
        "c4": C4Quality(),
    }
    batches = []
    for start in range(0, len(documents), BATCH):
        chunk = documents[start : start + BATCH]
        ids = [str(start + i) for i in range(len(chunk))]
        batches.append(make_batch(ids, "bench", [d.text for d in chunk], [None] * len(chunk),
                                  [None] * len(chunk)))  # fmt: skip
    for name, step in steps.items():  # warm up: rule tables, compiled patterns
        step.process(make_batch(["w"], "bench", ["Warm up, please. It is done."], [None], [None]), name)
    result = Decisions(reasons={name: [None] * len(documents) for name in FILTERS})
    result.c4_text = [None] * len(documents)
    outputs = []
    wall, cpu = time.perf_counter(), time.process_time()
    for batch in batches:
        outputs.append({name: step.process(batch, name) for name, step in steps.items()})
    result.wall, result.cpu = time.perf_counter() - wall, time.process_time() - cpu
    for output in outputs:
        for name, step_result in output.items():
            tables = [step_result.kept]
            if step_result.rejected is not None:
                tables.append(step_result.rejected)
            for table in tables:
                rows = [int(i) for i in table.column("id").to_pylist()]
                reasons = (table.column(REASON_COLUMN).to_pylist() if REASON_COLUMN in table.column_names
                           else [None] * len(rows))  # fmt: skip
                for row, reason in zip(rows, reasons, strict=True):
                    result.reasons[name][row] = reason.split(":", 1)[1] if reason else None
                if name == "c4" and table is step_result.kept:
                    for row, text in zip(rows, table.column("text").to_pylist(), strict=True):
                        result.c4_text[row] = text
                signals = result.signals.setdefault(name, {})
                for column in table.column_names:
                    if column.startswith(f"{name}_"):
                        values = signals.setdefault(column[len(name) + 1 :], [None] * len(documents))
                        for row, value in zip(rows, table.column(column).to_pylist(), strict=True):
                            values[row] = value
    return result


def lid_macro_accuracy() -> float:
    try:
        from gristmill.filters.language_eval import evaluate_labelled_jsonl
    except ImportError as error:
        print(f"language ID: not available ({error}); lid_macro_accuracy=nan")
        return math.nan
    try:
        evaluation = evaluate_labelled_jsonl(LINGUA)
    except Exception as error:  # noqa: BLE001 - a missing model or fastText is reported
        print(f"language ID: could not run ({type(error).__name__}: {error}); lid_macro_accuracy=nan")
        return math.nan
    print(f"language ID (lid.176.ftz) on {evaluation.documents:,} lingua sentences, "
          f"{len(evaluation.per_language)} languages: macro accuracy {evaluation.macro:.4f} "
          f"(over the {len(evaluation.supported)} it supports: {evaluation.macro_supported:.4f})")
    return evaluation.macro


def describe_signals(signals: dict[str, list], row: int) -> str:
    parts = []
    for name, values in signals.items():
        value = values[row]
        parts.append(f"{name}={value:.4g}" if isinstance(value, float) else f"{name}={value}")
    return " ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--book-chunks", type=int, default=20,
                        help="chunks of ~10k characters per book (0: whole books)")
    parser.add_argument("--no-lid", action="store_true", help="skip the language-ID accuracy")
    args = parser.parse_args()

    sources = load_documents(args.book_chunks)
    documents = [doc for docs in sources.values() for doc in docs]
    size = sum(len(d.text.encode("utf-8")) for d in documents)
    for name, docs in sources.items():
        print(f"{name}: {len(docs):,} documents, {sum(len(d.text) for d in docs) / 1e6:.1f} M chars")
    print(f"total: {len(documents):,} documents, {size / 1e6:.1f} MB")

    ours = run_gristmill(documents)
    theirs = run_datatrove(documents)

    print("\nagreement (keep/drop) per filter:")
    agree_all = [True] * len(documents)
    for name in FILTERS:
        disagree = [i for i, (a, b) in enumerate(zip(ours.reasons[name], theirs.reasons[name], strict=True))
                    if (a is None) != (b is None)]  # fmt: skip
        for i in disagree:
            agree_all[i] = False
        dropped = Counter(r for r in theirs.reasons[name] if r)
        print(f"  {name:>17}: {1 - len(disagree) / len(documents):.4%} "
              f"({len(disagree)} of {len(documents):,} differ; datatrove drops "
              f"{sum(dropped.values()):,}, gristmill {sum(r is not None for r in ours.reasons[name]):,})")
        for i in disagree:
            print(f"      {documents[i].id}: datatrove {theirs.reasons[name][i] or 'keeps'}, "
                  f"gristmill {ours.reasons[name][i] or 'keeps'}; "
                  f"{describe_signals(ours.signals.get(name, {}), i)}")
    both_kept = [i for i in range(len(documents))
                 if ours.reasons["c4"][i] is None and theirs.reasons["c4"][i] is None]  # fmt: skip
    same_text = sum(ours.c4_text[i] == theirs.c4_text[i] for i in both_kept)
    print(f"  C4 text kept identical on {same_text:,} of {len(both_kept):,} pages both keep")
    agreement = sum(agree_all) / len(documents)
    print(f"all four decisions agree on {agreement:.4%} of documents")

    speedup = theirs.cpu / ours.cpu
    print(f"\nthroughput, four filters, one process ({size / 1e6:.1f} MB):")
    for label, run in (("gristmill", ours), ("datatrove", theirs)):
        print(f"  {label}: {run.wall:7.1f} s wall ({size / run.wall / 1e6:6.2f} MB/s), "
              f"{run.cpu:7.1f} s CPU ({size / run.cpu / 1e6:6.2f} MB/s)")
    print(f"  speed-up: {theirs.wall / ours.wall:.1f}x wall, {speedup:.1f}x CPU")

    print()
    lid = math.nan if args.no_lid else lid_macro_accuracy()
    print(f"RESULT agreement={agreement:.4f} speedup_vs_datatrove={speedup:.1f} "
          f"lid_macro_accuracy={lid:.4f}")


if __name__ == "__main__":
    main()

