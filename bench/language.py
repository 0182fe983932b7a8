"""Language-ID accuracy and throughput of the ``lid`` step (fastText lid.176.ftz).

1. Accuracy on ``../shared/data/multilingual/lingua/sentences.jsonl`` (74k sentences, 75
   languages, lingua-py's test data from the Leipzig corpora): accuracy per language, the
   macro average over all 75 languages (the 8 that lid.176 cannot output — Ganda, Maori,
   Shona, Sotho, Tswana, Tsonga, Xhosa, Zulu — count as 0) and over the 67 it supports.
   Computed by :func:`gristmill.filters.language_eval.evaluate_labelled_jsonl`, which
   ``bench/filters.py`` reuses.
2. Throughput, one process: the step's ``signals`` (newline normalisation, batch predict,
   typed columns) over whole web documents — the dolma CommonCrawl sample of
   ``../shared/data/web/jsonl/dolma``, cycled to ``--docs`` documents, in batches of 1,024
   as the runner feeds them — against fastText's bare batch ``predict`` on the same texts
   (newlines replaced with ``str.replace``).
   Wall and CPU seconds are both reported (CPU time is steadier on a shared machine).

Ends with ``RESULT lid_macro_accuracy=<all 75 languages> lid_docs_per_s=<web docs/s>``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from pathlib import Path

from gristmill.documents import make_batch
from gristmill.filters.language import LanguageID, load_fasttext_model
from gristmill.filters.language_eval import evaluate_labelled_jsonl

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LINGUA = DATA / "multilingual" / "lingua" / "sentences.jsonl"
DOLMA = DATA / "web" / "jsonl" / "dolma" / "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
BATCH = 1024


def web_documents(count: int) -> list[str]:
    with gzip.open(DOLMA, "rt", encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle if line.strip()]
    return [texts[i % len(texts)] for i in range(count)]


def timed(function) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    function()
    return time.perf_counter() - wall, time.process_time() - cpu


def throughput(step: LanguageID, texts: list[str], repeat: int) -> dict[str, float]:
    batches = [
        make_batch([f"web/b/{i}" for i in range(len(chunk))], "web", chunk, [None] * len(chunk),
                   [None] * len(chunk))
        for chunk in (texts[i : i + BATCH] for i in range(0, len(texts), BATCH))
    ]  # fmt: skip
    model = load_fasttext_model(step.model)
    step.signals(batches[0])  # warm up (model load)
    plain = [b.column("text").to_pylist() for b in batches]

    def ours() -> None:
        for batch in batches:
            step.signals(batch)

    def bare() -> None:
        for texts_of_batch in plain:
            model.predict([t.replace("\n", " ") for t in texts_of_batch], k=1)

    runs = {
        "step": [timed(ours) for _ in range(repeat)],
        "bare": [timed(bare) for _ in range(repeat)],
    }
    size = sum(len(t.encode("utf-8")) for t in texts)
    result = {}
    for name, measured in runs.items():
        wall = min(w for w, _ in measured)
        cpu = min(c for _, c in measured)
        result[f"{name}_docs_per_s"] = len(texts) / wall
        result[f"{name}_mb_per_s"] = size / wall / 1e6
        result[f"{name}_cpu_docs_per_s"] = len(texts) / cpu
        result[f"{name}_cpu_mb_per_s"] = size / cpu / 1e6
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=10_000, help="web documents to time")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes (best is kept)")
    args = parser.parse_args()
    step = LanguageID(method="fasttext")  # raw lid.176: bench/multilingual.py has the ensemble

    evaluation = evaluate_labelled_jsonl(LINGUA, step)
    print(f"lingua sentences: {evaluation.documents:,} in {len(evaluation.per_language)} languages")
    print("accuracy per language (lid.176.ftz, top-1, no threshold):")
    items = sorted(evaluation.per_language.items(), key=lambda item: item[1])
    for index in range(0, len(items), 5):
        print("  " + "  ".join(f"{lang:>3} {acc:6.1%}" for lang, acc in items[index : index + 5]))
    print(f"unsupported by lid.176: {', '.join(evaluation.unsupported)}")
    print(f"macro accuracy, all {len(evaluation.per_language)} languages: {evaluation.macro:.4f}")
    print(
        f"macro accuracy, {len(evaluation.supported)} supported languages: "
        f"{evaluation.macro_supported:.4f}"
    )
    print(
        f"sentences: {evaluation.documents / evaluation.seconds:,.0f} docs/s, "
        f"{evaluation.text_bytes / evaluation.seconds / 1e6:.1f} MB/s (CPU)"
    )

    texts = web_documents(args.docs)
    size = sum(len(t.encode("utf-8")) for t in texts)
    print(f"\nweb documents: {len(texts):,} ({size / 1e6:.1f} MB, dolma CC sample cycled)")
    speed = throughput(step, texts, args.repeat)
    for name, label in (("step", "lid step signals"), ("bare", "bare fastText predict")):
        print(
            f"{label:>22}: {speed[f'{name}_docs_per_s']:,.0f} docs/s, "
            f"{speed[f'{name}_mb_per_s']:.1f} MB/s wall; "
            f"{speed[f'{name}_cpu_docs_per_s']:,.0f} docs/s, "
            f"{speed[f'{name}_cpu_mb_per_s']:.1f} MB/s CPU"
        )
    print(
        f"step overhead over bare predict: "
        f"{speed['bare_cpu_docs_per_s'] / speed['step_cpu_docs_per_s'] - 1:+.1%} (CPU)"
    )
    print(
        f"RESULT lid_macro_accuracy={evaluation.macro:.4f} "
        f"lid_docs_per_s={speed['step_docs_per_s']:.0f}"
    )


if __name__ == "__main__":
    main()
