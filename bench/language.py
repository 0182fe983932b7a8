"""Language-ID accuracy and throughput of the ``lid`` step (fastText lid.176.ftz).

1. Accuracy on ``../shared/data/multilingual/lingua/sentences.jsonl`` (74k sentences, 75
   languages, lingua-py's test data from the Leipzig corpora): accuracy per language, the
   macro average over all 75 languages (the 8 that lid.176 cannot output — Ganda, Maori,
   Shona, Sotho, Tswana, Tsonga, Xhosa, Zulu — count as 0) and over the 67 it supports.
   Computed by :func:`gristmill.filters.language_eval.evaluate_labelled_jsonl`, which
   ``bench/filters.py`` reuses.
2. Throughput, one process, CPU time (``time.process_time``): the step's ``signals``
   (newline and Unicode-space normalisation, batch predict, typed columns) over whole web
   documents — the dolma CommonCrawl sample of ``../shared/data/web/jsonl/dolma``, cycled
   to ``--docs`` documents, in batches of 1,024 as the runner feeds them — against
   fastText's bare batch ``predict`` on the same texts made one-line the same way in plain
   Python (``str.replace`` and ``re.sub``). Equal work: both sides use the one loaded
   model, both are warmed on the first batch, passes alternate (best of ``--repeat``), and
   the labels of both are checked identical on every document.

Ends with ``RESULT lid_macro_accuracy=<all 75 languages> lid_docs_per_cpu_s=<web docs per
CPU second, the step> lid_step_cpu_ratio_vs_fasttext=<step CPU time / bare predict CPU
time> lid_labels_identical=<0|1>``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import time
from pathlib import Path

from gristmill.documents import make_batch
from gristmill.filters.language import LanguageID, load_fasttext_model
from gristmill.filters.language_eval import evaluate_labelled_jsonl

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LINGUA = DATA / "multilingual" / "lingua" / "sentences.jsonl"
DOLMA = DATA / "web" / "jsonl" / "dolma" / "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
BATCH = 1024
# the Unicode spaces the step replaces (gristmill.filters.language._UNICODE_SPACES), as a
# Python pattern
_UNICODE_SPACES = re.compile("[\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\u0085]")


def web_documents(count: int) -> list[str]:
    with gzip.open(DOLMA, "rt", encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle if line.strip()]
    return [texts[i % len(texts)] for i in range(count)]


def one_line(text: str) -> str:
    """What the step feeds fastText, in plain Python: newlines and Unicode spaces to spaces."""
    return _UNICODE_SPACES.sub(" ", text.replace("\n", " "))


def throughput(step: LanguageID, texts: list[str], repeat: int) -> dict[str, float]:
    """CPU seconds (best of ``repeat`` alternating passes) of the step and of bare predict,
    and whether both give the same label to every document."""
    batches = [
        make_batch([f"web/b/{i}" for i in range(len(chunk))], "web", chunk, [None] * len(chunk),
                   [None] * len(chunk))
        for chunk in (texts[i : i + BATCH] for i in range(0, len(texts), BATCH))
    ]  # fmt: skip
    model = load_fasttext_model(step.model)
    plain = [b.column("text").to_pylist() for b in batches]

    def ours() -> list[str]:
        return [label for batch in batches for label in step.signals(batch)["lang"].to_pylist()]

    def bare() -> list[str]:
        labels = []
        for texts_of_batch in plain:
            predicted, _ = model.predict([one_line(t) for t in texts_of_batch], k=1)
            labels.extend(
                label[0].removeprefix("__label__") if label else "" for label in predicted
            )
        return labels

    step.signals(batches[0])  # warm up both sides on the first batch
    model.predict([one_line(t) for t in plain[0]], k=1)
    best = {"step": float("inf"), "bare": float("inf")}
    labels = {}
    for _ in range(repeat):
        for name, function in (("step", ours), ("bare", bare)):
            started = time.process_time()
            labels[name] = function()
            best[name] = min(best[name], time.process_time() - started)
    same = sum(a == b for a, b in zip(labels["step"], labels["bare"], strict=True))
    return {**best, "same_labels": same}


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
            f"{label:>22}: {speed[name]:.2f} CPU s, {len(texts) / speed[name]:,.0f} docs/s, "
            f"{size / speed[name] / 1e6:.1f} MB/s (CPU)"
        )
    ratio = speed["step"] / speed["bare"]
    identical = speed["same_labels"] == len(texts)
    print(f"step CPU time / bare predict CPU time: {ratio:.3f}; same label on "
          f"{speed['same_labels']:,} of {len(texts):,} documents")  # fmt: skip
    print(
        f"RESULT lid_macro_accuracy={evaluation.macro:.4f} "
        f"lid_docs_per_cpu_s={len(texts) / speed['step']:.0f} "
        f"lid_step_cpu_ratio_vs_fasttext={ratio:.3f} lid_labels_identical={int(identical)}"
    )


if __name__ == "__main__":
    main()
