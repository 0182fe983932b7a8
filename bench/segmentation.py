"""Word segmenters for scripts written without spaces: boundary F1 and CPU throughput.

1. Quality: word-boundary precision, recall and F1 (the SIGHAN bakeoff measure, Sproat &
   Emerson 2003, over word spans) of every segmenter of
   :data:`gristmill.segmentation.non_spaced.SEGMENTERS` against the hand-segmented sentences
   of ``tests/golden/segmentation/gold_words.json`` (Chinese, Japanese, Thai).
2. Speed, in one process and CPU time: characters per CPU second of each segmenter over
   ``../shared/data/multilingual`` (the zh_wiki_cmrc passages; the lingua Japanese and Thai
   sentences), and of the whole :func:`gristmill.segmentation.split_words` on the same
   texts beside English lingua sentences through it.

Measured on this machine (2 shared cores, CPU time of one process; ``-v`` prints the
sentences a segmenter gets wrong):

    zh  jieba        F1 0.794  0.35 M chars/s   characters   F1 0.379  53 M chars/s
    ja  mecab        F1 0.983  0.77 M chars/s   script_runs  F1 0.659  22 M chars/s
                                                 characters   F1 0.450  47 M chars/s
    th  newmm        F1 0.676  0.71 M chars/s   syllables    F1 0.025  3.3 M chars/s
    split_words (the whole splitter): zh 0.32, ja 0.75, th 0.62, en 5.0 M chars/s

jieba's errors are granularity (北京大学 and 中文信息处理 kept whole where PKU splits them),
newmm's are compounds (ดีมาก, ภาษาอังกฤษ); the dictionary-free schemes lose 40 points of F1,
so the maintained segmenters are the defaults at 1/15 (zh) to 1/7 (ja) of English speed.

Ends with ``RESULT zh_f1=<f> ja_f1=<f> th_f1=<f> zh_chars_per_s=<n>``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gristmill.segmentation import split_words  # noqa: E402
from gristmill.segmentation.non_spaced import SEGMENTERS, SYSTEM_RUN  # noqa: E402

GOLD = ROOT / "tests/golden/segmentation/gold_words.json"
DATA = ROOT.parent / "shared/data/multilingual"
SYSTEMS = {"zh": "chinese", "ja": "japanese", "th": "thai"}


def spans(words: list[str]) -> set[tuple[int, int]]:
    """Character spans of ``words`` laid end to end."""
    out, position = set(), 0
    for word in words:
        out.add((position, position + len(word)))
        position += len(word)
    return out


def segment_sentence(segment, text: str) -> list[str]:
    """``segment`` on the runs of non-spaced scripts, as gristmill calls it; every other
    character (punctuation) a word of its own."""
    words, position = [], 0
    for match in SYSTEM_RUN.finditer(text):
        words.extend(text[position : match.start()])
        words.extend(segment(match.group()))
        position = match.end()
    words.extend(text[position:])
    return words


def boundary_f1(segment, sentences: list[str], show: bool = False) -> float:
    """F1 of the word spans ``segment`` finds against the gold spans."""
    found = gold = correct = 0
    for sentence in sentences:
        gold_words = sentence.split()
        predicted = segment_sentence(segment, "".join(gold_words))
        if show and predicted != gold_words:
            print("   ", " ".join(predicted))
        assert "".join(predicted) == "".join(gold_words), (predicted, gold_words)
        gold_spans, predicted_spans = spans(gold_words), spans(predicted)
        found += len(predicted_spans)
        gold += len(gold_spans)
        correct += len(gold_spans & predicted_spans)
    precision, recall = correct / found, correct / gold
    return 2 * precision * recall / (precision + recall)


def corpus(lang: str) -> list[str]:
    if lang == "zh":
        path = DATA / "zh_wiki_cmrc/passages.jsonl"
        return [json.loads(line)["text"] for line in path.open(encoding="utf-8")]
    path = DATA / "lingua/sentences.jsonl"
    rows = (json.loads(line) for line in path.open(encoding="utf-8"))
    return [row["text"] for row in rows if row["lang"] == lang]


def chars_per_cpu_second(function, texts: list[str]) -> float:
    function(texts[0])  # load the dictionary first
    start = time.process_time()
    for text in texts:
        function(text)
    return sum(map(len, texts)) / (time.process_time() - start)


def main() -> None:
    gold = json.loads(GOLD.read_text(encoding="utf-8"))
    best: dict[str, float] = {}
    for lang, system in SYSTEMS.items():
        for name, segment in SEGMENTERS[system].items():
            f1 = boundary_f1(segment, gold[lang], show="-v" in sys.argv and lang not in best)
            best.setdefault(lang, f1)
            speed = chars_per_cpu_second(segment, corpus(lang)) if DATA.exists() else float("nan")
            print(f"{lang} {name:12s} F1 {f1:.3f}  {speed / 1e6:.2f} M chars/s")
    speeds = {}
    if DATA.exists():
        for lang in ("zh", "ja", "th", "en"):
            speeds[lang] = chars_per_cpu_second(split_words, corpus(lang))
            print(f"split_words {lang}: {speeds[lang] / 1e6:.2f} M chars/s")
    print(
        f"RESULT zh_f1={best['zh']:.3f} ja_f1={best['ja']:.3f} th_f1={best['th']:.3f} "
        f"zh_chars_per_s={speeds.get('zh', float('nan')):.0f}"
    )


if __name__ == "__main__":
    main()
