"""Multilingual benchmark: language ID (ensemble against raw lid.176), accuracy and speed.

1. Accuracy on ``../shared/data/multilingual/lingua/sentences.jsonl`` (74k Leipzig
   sentences, 75 languages, lingua-py's test data), split by a hash of each row's id
   (:func:`gristmill.filters.language_eval.held_out`): the development two thirds is what
   the ensemble was designed and its per-language thresholds calibrated on, the held-out
   third gives the reported figure. Line-level macro accuracy (every language weighs the
   same; languages a method cannot output count as 0) for ``method: fasttext`` (raw
   lid.176, the step before the ensemble), ``method: ensemble`` and each ensemble member
   alone; then the languages the ensemble changes most, both ways.
2. Other real text: the 1,104 Chinese Wikipedia passages of ``multilingual/zh_wiki_cmrc``
   (share labelled ``zh``), and any labelled JSONL given with ``--extra`` (rows ``{id,
   lang, text}``; ``lang`` up to its first ``-`` is the gold label, e.g. a UDHR-by-
   paragraph file): macro accuracy of both methods and documents kept at the step's
   default thresholds.
3. Throughput over whole web documents: the dolma CommonCrawl sample of
   ``web/jsonl/dolma``, cycled to ``--docs`` documents, in batches of 1,024 as the runner
   feeds them, the step's ``signals`` in one process, CPU time (best of ``--repeat``);
   plus how often the two methods agree on those documents.

``--thresholds`` prints :func:`calibrate_thresholds` over the development part (the
table in ``gristmill/filters/language_thresholds.py``).

Ends with ``RESULT lid_macro=<ensemble, held-out> lid_macro_fasttext=<lid.176, held-out>
lid_docs_per_cpu_s=<ensemble, web docs per CPU second>``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import time
from collections import Counter
from pathlib import Path

from gristmill.documents import make_batch
from gristmill.filters.language import LanguageID, load_ensemble
from gristmill.filters.language_eval import (
    LID176_ALIASES,
    accuracy_by_language,
    macro_accuracy,
    output_languages,
    predict_in_batches,
    read_labelled_jsonl,
)
from gristmill.filters.language_members import (
    predict_cld2,
    predict_cld3,
    predict_fasttext,
    predict_langid,
)
from gristmill.filters.language_thresholds import calibrate_thresholds
from gristmill.filters.language_vote import main_text_sample

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
LINGUA = DATA / "multilingual" / "lingua" / "sentences.jsonl"
CMRC = DATA / "multilingual" / "zh_wiki_cmrc" / "passages.jsonl"
DOLMA = DATA / "web" / "jsonl" / "dolma" / "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
BATCH = 1024
METHODS = ("fasttext", "ensemble")


def gold_label(lang: str) -> str:
    base = lang.split("-", 1)[0]
    return LID176_ALIASES.get(base, base)


def macro_over(gold: list[str], predicted: list[str], languages: set[str]) -> float:
    """Macro accuracy over the gold languages in ``languages`` only."""
    pairs = [(g, p) for g, p in zip(gold, predicted, strict=True) if g in languages]
    return macro_accuracy([g for g, _ in pairs], [p for _, p in pairs])


def member_predictions(texts: list[str]) -> dict[str, list[str]]:
    """Each ensemble member alone: its top language per text."""
    ensemble = load_ensemble("lid.176.ftz")
    one_line = [text.replace("\n", " ") for text in texts]
    samples = [main_text_sample(text) for text in texts]
    distributions = {
        "lid.176 (top 1 of 3)": predict_fasttext(ensemble.fasttext_model, one_line),
        "cld2": predict_cld2(texts),
        "cld3": predict_cld3(samples),
        "langid.py": predict_langid(samples),
    }
    return {
        name: [max(d, key=d.get) if d else "und" for d in values]
        for name, values in distributions.items()
    }


def lingua_accuracy(show_thresholds: bool) -> dict[str, float]:
    results = {}
    per_language = {}
    lid176_languages, _ = output_languages(LanguageID(method="fasttext"))
    for split in ("dev", "held_out"):
        rows = read_labelled_jsonl(LINGUA, split)
        gold = [gold_label(row["lang"]) for row in rows]
        texts = [row["text"] for row in rows]
        print(f"\nlingua sentences, {split}: {len(rows):,} in {len(set(gold))} languages")
        for method in METHODS:
            predicted, scores, seconds = predict_in_batches(LanguageID(method=method), texts)
            results[f"{method}_{split}"] = macro_accuracy(gold, predicted)
            per_language[(method, split)] = accuracy_by_language(gold, predicted)
            print(
                f"  {method:>9}: macro {results[f'{method}_{split}']:.4f}; over the "
                f"{len(set(gold) & lid176_languages)} languages lid.176 can output "
                f"{macro_over(gold, predicted, lid176_languages):.4f} "
                f"({len(texts) / seconds:,.0f} sentences per CPU second)"
            )
            if method == "ensemble" and split == "dev" and show_thresholds:
                print(f"  thresholds: {calibrate_thresholds(gold, predicted, scores)}")
        if split == "held_out":
            for name, predicted in member_predictions(texts).items():
                print(f"  {name:>20} alone: macro {macro_accuracy(gold, predicted):.4f}")
    before, after = per_language[("fasttext", "held_out")], per_language[("ensemble", "held_out")]
    change = sorted(before, key=lambda language: after[language] - before[language])
    print(
        "  held-out, ensemble vs lid.176, largest gains: "
        + ", ".join(
            f"{lang} {before[lang]:.2f}->{after[lang]:.2f}" for lang in reversed(change[-12:])
        )
    )
    print(
        "  held-out, smallest changes / losses: "
        + ", ".join(f"{lang} {before[lang]:.2f}->{after[lang]:.2f}" for lang in change[:8])
    )
    return results


def other_text(extra: list[Path]) -> None:
    lid176_languages, _ = output_languages(LanguageID(method="fasttext"))
    passages = [json.loads(line)["text"] for line in CMRC.open(encoding="utf-8")]
    for method in METHODS:
        predicted, _, _ = predict_in_batches(LanguageID(method=method), passages)
        print(
            f"zh_wiki_cmrc passages ({len(passages):,}), {method}: "
            f"{Counter(predicted)['zh'] / len(passages):.4f} labelled zh, "
            f"others {Counter(p for p in predicted if p != 'zh').most_common(3)}"
        )
    for path in extra:
        rows = read_labelled_jsonl(path)
        gold = [gold_label(row["lang"]) for row in rows]
        texts = [row["text"] for row in rows]
        for method in METHODS:
            step = LanguageID(method=method)
            predicted, scores, _ = predict_in_batches(step, texts)
            kept = sum(
                1
                for lang, truth, score in zip(predicted, gold, scores, strict=True)
                if lang == truth and score >= step.threshold_of(lang)
            )
            print(
                f"{path.name} ({len(rows):,} items, {len(set(gold))} languages), {method}: "
                f"macro {macro_accuracy(gold, predicted):.4f}; over the "
                f"{len(set(gold) & lid176_languages)} lid.176 can output "
                f"{macro_over(gold, predicted, lid176_languages):.4f}; correct and kept "
                f"at the default thresholds {kept / len(rows):.4f}"
            )


def web_throughput(count: int, repeat: int) -> dict[str, float]:
    with gzip.open(DOLMA, "rt", encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle if line.strip()]
    agreement = dict(
        zip(
            METHODS,
            (predict_in_batches(LanguageID(method=m), texts)[0] for m in METHODS),
            strict=True,
        )
    )
    same = sum(a == b for a, b in zip(agreement["fasttext"], agreement["ensemble"], strict=True))
    print(
        f"\ndolma web documents: {len(texts)}, methods agree on {same / len(texts):.4f}; "
        f"ensemble labels {Counter(agreement['ensemble']).most_common(8)}"
    )
    texts = [texts[i % len(texts)] for i in range(count)]
    batches = [
        make_batch([f"web/b/{i}" for i in range(len(chunk))], "web", chunk,
                   [None] * len(chunk), [None] * len(chunk))
        for chunk in (texts[i : i + BATCH] for i in range(0, len(texts), BATCH))
    ]  # fmt: skip
    speed = {}
    for method in METHODS:
        step = LanguageID(method=method)
        step.signals(batches[0])  # warm up: models load once per process
        cpu = []
        for _ in range(repeat):
            began = time.process_time()
            for batch in batches:
                step.signals(batch)
            cpu.append(time.process_time() - began)
        speed[method] = len(texts) / min(cpu)
        print(
            f"  {method:>9}: {speed[method]:,.0f} web docs per CPU second "
            f"({len(texts):,} documents, best of {repeat})"
        )
    return speed


def language_id_keys(args: argparse.Namespace) -> dict[str, str]:
    """Run parts 1-3 and return the language-ID keys of the RESULT line."""
    accuracy = lingua_accuracy(args.thresholds)
    print()
    other_text(args.extra)
    speed = web_throughput(args.docs, args.repeat)
    return {
        "lid_macro": f"{accuracy['ensemble_held_out']:.4f}",
        "lid_macro_fasttext": f"{accuracy['fasttext_held_out']:.4f}",
        "lid_docs_per_cpu_s": f"{speed['ensemble']:.0f}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=5_000, help="web documents to time")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes (best is kept)")
    parser.add_argument(
        "--extra",
        type=Path,
        action="append",
        default=[],
        help="another labelled JSONL file to check on (repeatable)",
    )
    parser.add_argument(
        "--thresholds",
        action="store_true",
        help="print per-language thresholds calibrated on the dev part",
    )
    args = parser.parse_args()
    keys = language_id_keys(args)  # other parts of this bench add their keys here
    print("RESULT " + " ".join(f"{name}={value}" for name, value in keys.items()))


if __name__ == "__main__":
    main()
