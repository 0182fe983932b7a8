"""Perplexity filter: training, scoring throughput, and the built-in estimator vs lmplz.

1. ``train_language_model`` on ``--books`` Project Gutenberg novels of
   ``../shared/data/books/gutenberg`` (the reference source; CCNet used Wikipedia):
   SentencePiece (``--vocab-size``) then ``lmplz -o 5`` + ``build_binary`` when the KenLM
   tools are built (``scripts/build_kenlm_tools.sh``), else the built-in estimator.
2. Scoring throughput, one process: the step's ``signals`` (CCNet normalisation,
   SentencePiece, KenLM, buckets) over the dolma CommonCrawl sample of
   ``../shared/data/web/jsonl/dolma`` cycled to ``--docs`` documents in batches of 1,024,
   with the time split into its three parts; CCNet-style cut-offs (30th/60th
   percentiles) of the sample's English documents (by the lid step) are printed.
3. With lmplz: the built-in modified Kneser–Ney estimator against lmplz on the pieces of
   the first ``--agreement-books`` books — time, n-gram sets, largest difference of log10
   probabilities and backoffs.
4. The GPT-3-style quality classifier (books as positives, the web sample as negatives):
   training time and scoring throughput on the same web documents.

Everything is timed in CPU seconds (this process and its ended children, such as lmplz).

Ends with ``RESULT ppl_docs_per_cpu_s=<x> ppl_mb_per_cpu_s=<y> kn_max_abs_diff=<z>``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import tempfile
import time
from pathlib import Path

import pyarrow as pa
from cluster_cpu import own_cpu_seconds

from gristmill.documents import make_batch
from gristmill.filters.language import LanguageID
from gristmill.filters.lm_normalize import normalize_batch
from gristmill.filters.perplexity import Perplexity, load_kenlm, piece_lines
from gristmill.filters.quality_classifier import QualityClassifier
from gristmill.training.kneser_ney import estimate, read_arpa
from gristmill.training.language_model import (
    find_kenlm_tool,
    perplexity_cutoffs,
    train_language_model,
)
from gristmill.training.quality_classifier import ClassifierTraining, train_quality_classifier

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
BOOKS = DATA / "books" / "gutenberg"
DOLMA = DATA / "web" / "jsonl" / "dolma" / "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
BATCH = 1024


def books(count: int) -> list[str]:
    """The first ``count`` novels, skipping copies (106.txt is 105.txt with a new header)."""
    texts: list[str] = []
    seen: set[str] = set()
    for path in sorted(BOOKS.glob("*.txt")):
        text = path.read_bytes().decode("utf-8-sig", errors="replace")
        if text[-50_000:] not in seen and len(texts) < count:
            seen.add(text[-50_000:])
            texts.append(text)
    return texts


def web_documents(count: int) -> list[str]:
    with gzip.open(DOLMA, "rt", encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle if line.strip()]
    return [texts[i % len(texts)] for i in range(count)]


def batches_of(texts: list[str]) -> list:
    return [
        make_batch([f"web/b/{i}" for i in range(len(chunk))], "web", chunk, [None] * len(chunk),
                   [None] * len(chunk))
        for chunk in (texts[i : i + BATCH] for i in range(0, len(texts), BATCH))
    ]  # fmt: skip


def clock() -> tuple[float, float]:
    return time.perf_counter(), own_cpu_seconds()


def since(start: tuple[float, float]) -> tuple[float, float]:
    """Wall and CPU seconds (this process and its ended children, e.g. lmplz) since ``start``."""
    return time.perf_counter() - start[0], own_cpu_seconds() - start[1]


def scoring(model_dir: Path, texts: list[str]) -> dict[str, float]:
    step = Perplexity(model_dir=str(model_dir))
    batches = batches_of(texts)
    step.signals(batches[0])  # warm up: models and the normalisation table load
    start = clock()
    for batch in batches:
        step.signals(batch)
    wall, cpu = since(start)

    # the three parts, timed apart on the same texts
    model = load_kenlm(str(model_dir / "en.arpa.bin")) if (model_dir / "en.arpa.bin").exists() \
        else load_kenlm(str(model_dir / "en.arpa"))
    part = {}
    start = clock()
    normalized = [normalize_batch(b.column("text").to_pylist()) for b in batches]
    part["normalise"] = since(start)[1]
    lines = [[ln.strip() for t in docs for ln in t.split("\n") if ln.strip()] for docs in normalized]
    start = clock()
    pieces = [piece_lines(chunk, str(model_dir / "en.sp.model")) for chunk in lines]
    part["sentencepiece"] = since(start)[1]
    start = clock()
    for chunk in pieces:
        for line, _ in chunk:
            model.score(line)
    part["kenlm"] = since(start)[1]
    size = sum(len(t.encode("utf-8")) for t in texts)
    return {"wall": wall, "cpu": cpu, "bytes": size, **{f"cpu_{k}": v for k, v in part.items()}}


def agreement(texts: list[str], work: Path, order: int, tokenizer: Path) -> dict[str, float]:
    lines = [ln.strip() for t in normalize_batch(texts) for ln in t.split("\n") if ln.strip()]
    pieces = [p for p, _ in piece_lines(lines, str(tokenizer))]
    corpus = work / "pieces.txt"
    corpus.write_text("\n".join(pieces) + "\n", encoding="utf-8")
    start = clock()
    subprocess.run(
        [find_kenlm_tool("lmplz"), "-o", str(order), "-S", "1G", "-T", str(work) + "/",
         "--skip_symbols", "--text", str(corpus), "--arpa", str(work / "lmplz.arpa")],
        check=True, capture_output=True,
    )  # fmt: skip
    lmplz_s = since(start)[1]
    start = clock()
    estimate(
        (p.split() for p in pieces), order=order, discount_fallback=False, skip_symbols=True
    ).write_arpa(
        work / "builtin.arpa"
    )
    builtin_s = since(start)[1]
    expected, actual = read_arpa(work / "lmplz.arpa"), read_arpa(work / "builtin.arpa")
    worst = max(
        max(abs(p - actual[k][0]), abs(b - actual[k][1]))
        for k, (p, b) in expected.items()
        if k in actual
    )
    return {
        "tokens": sum(len(p.split()) for p in pieces),
        "ngrams": len(expected),
        "same_ngrams": expected.keys() == actual.keys(),
        "max_abs_diff": worst,
        "lmplz_s": lmplz_s,
        "builtin_s": builtin_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--books", type=int, default=10, help="reference novels to train on")
    parser.add_argument("--vocab-size", type=int, default=32000)
    parser.add_argument("--docs", type=int, default=5000, help="web documents to score")
    parser.add_argument("--agreement-books", type=int, default=2)
    args = parser.parse_args()
    reference = books(args.books)
    texts = web_documents(args.docs)

    with tempfile.TemporaryDirectory(prefix="gristmill-bench-lm-") as folder:
        work = Path(folder)
        start = clock()
        trained = train_language_model(
            reference, work / "lm", vocab_size=args.vocab_size, memory="2G"
        )
        _, train_cpu = since(start)
        size = sum(len(t.encode("utf-8")) for t in reference)
        print(f"trained on {len(reference)} books ({size / 1e6:.1f} MB, {trained.tokens:,} "
              f"pieces, vocabulary {trained.vocab_size:,}) with {trained.estimator} "
              f"in {train_cpu:.1f} s CPU → {Path(trained.model).name}")

        speed = scoring(work / "lm", texts)
        mb = speed["bytes"] / 1e6
        print(f"\nscoring {len(texts):,} web documents ({mb:.1f} MB):")
        print(f"  CPU {len(texts) / speed['cpu']:,.0f} docs/s, {mb / speed['cpu']:.1f} MB/s")
        for part in ("normalise", "sentencepiece", "kenlm"):
            seconds = speed[f"cpu_{part}"]
            print(f"  {part:>13}: {mb / seconds:6.1f} MB/s CPU ({seconds:.2f} s)")
        english = [t for t, lang in zip(texts[:697], LanguageID().predict(
            pa.array(texts[:697]))[0], strict=True) if lang == "en"]
        cutoffs = perplexity_cutoffs(english, trained.model, trained.tokenizer)
        print(f"  cut-offs of the {len(english)} English web documents (30th/60th "
              f"percentiles): head < {cutoffs['head']} ≤ middle < {cutoffs['tail']} ≤ tail")

        kn_diff = float("nan")
        if find_kenlm_tool("lmplz") is not None:
            result = agreement(reference[: args.agreement_books], work, 5, Path(trained.tokenizer))
            kn_diff = result["max_abs_diff"]
            print(f"\nbuilt-in estimator vs lmplz -o 5 on {result['tokens']:,} pieces: "
                  f"{result['ngrams']:,} n-grams, same set: {result['same_ngrams']}, "
                  f"max |Δ log10| {kn_diff:.2e}; lmplz {result['lmplz_s']:.1f} s CPU, "
                  f"built-in {result['builtin_s']:.1f} s CPU")
        else:
            print("\nlmplz not built: built-in estimator only (scripts/build_kenlm_tools.sh)")

        chunks = [book[i : i + 3000] for book in reference for i in range(0, len(book), 3000)]
        start = clock()
        classifier = train_quality_classifier(
            chunks, texts[:697], work / "quality.bin",
            ClassifierTraining(max_documents_per_class=697),
        )  # fmt: skip
        _, train_s = since(start)
        step = QualityClassifier(model=classifier.model)
        batches = batches_of(texts)
        step.signals(batches[0])
        start = clock()
        for batch in batches:
            step.signals(batch)
        _, cpu = since(start)
        print(f"\nquality classifier: trained in {train_s:.1f} s CPU on {classifier.positives:,} "
              f"documents per class (held-out accuracy {classifier.accuracy:.3f}); scoring "
              f"{len(texts) / cpu:,.0f} docs/s, {mb / cpu:.1f} MB/s CPU")

    print(f"RESULT ppl_docs_per_cpu_s={len(texts) / speed['cpu']:.0f} "
          f"ppl_mb_per_cpu_s={mb / speed['cpu']:.2f} kn_max_abs_diff={kn_diff:.2e}")


if __name__ == "__main__":
    main()
