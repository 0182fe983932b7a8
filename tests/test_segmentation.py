"""Word segmentation by script: goldens per script for the words and for every filter's
signals, English unchanged, and the segmenters' quality on hand-segmented sentences."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gristmill.documents import make_batch
from gristmill.filters.c4 import C4Quality
from gristmill.filters.fineweb import FineWebQuality
from gristmill.filters.gopher_quality import GopherQuality
from gristmill.filters.gopher_repetition import GopherRepetition
from gristmill.filters.length import TextLength
from gristmill.segmentation import count_sentences, split_plain, split_words
from gristmill.segmentation.english import split_english
from gristmill.segmentation.non_spaced import SEGMENTERS, syllables

#: one short paragraph per script (written for these tests)
PARAGRAPHS = {
    "zh": "这座水车建于十九世纪，现在对游客开放。村民们每天早上在河边散步！你去过吗？",
    "ja": "東京都に住んでいる私は、毎日コーヒーを飲みます。水車は川の東岸にあります。",
    "th": "ผมชอบกินข้าวผัดมาก วันนี้อากาศดีมาก เขาไปโรงเรียนทุกวัน",
    "ko": "오래된 물레방아가 토요일에 다시 문을 열었습니다. 마을 사람들이 모두 왔어요.",
    "ar": "أعيد افتتاح الطاحونة القديمة يوم السبت. جاء أهل القرية جميعاً لرؤيتها.",
    "ru": "Старая мельница снова открылась в субботу. Пришла вся деревня, чтобы увидеть её.",
    "mixed": "The mill (水车) opened in 1850年; 入場料は500円です. Mr. Hale's book costs £12.",
    "lo": "ສະບາຍດີ ພາສາລາວ",
    "km": "ភាសាខ្មែរ សួស្តី",
    "my": "မြန်မာဘာသာ မင်္ဂလာပါ",
}


def test_words_per_script(golden):
    golden.check(
        "segmentation/words",
        {
            lang: {"words": split_words(text), "plain": split_plain(text)}
            for lang, text in PARAGRAPHS.items()
        },
    )


def test_spaced_scripts_split_exactly_as_before():
    for lang in ("ko", "ar", "ru"):
        assert split_words(PARAGRAPHS[lang]) == split_english(PARAGRAPHS[lang])
        assert split_plain(PARAGRAPHS[lang]) == PARAGRAPHS[lang].split()


def test_segmentation_keeps_every_character_in_order():
    for text in PARAGRAPHS.values():
        assert "".join(split_words(text)) == "".join(text.split())
        assert all(word and not word.isspace() for word in split_words(text))


def test_chinese_and_japanese_sentences_end_at_their_full_stops():
    assert count_sentences(PARAGRAPHS["zh"]) == 3
    assert count_sentences(PARAGRAPHS["ja"]) == 2


def test_syllables_keep_stacked_and_killed_consonants():
    assert syllables("ខ្មែរ") == ["ខ្មែ", "រ"]
    assert "".join(syllables("မင်္ဂလာပါ")) == "မင်္ဂလာပါ"
    assert syllables("ເລາ") == ["ເລາ"]  # a leading vowel keeps its consonant


def outcome(step, texts: list[str], names: list[str]) -> dict:
    """Per document (by name): its reason (None = kept) and its signals, rounded."""
    size = len(texts)
    batch = make_batch([f"doc/{i}" for i in range(size)], "t", texts, [None] * size, [None] * size)
    result = step.process(batch, step.name)
    rows: dict[str, dict] = {}
    for part in (result.kept, result.rejected):
        if part is None:
            continue
        columns = [c for c in part.column_names if c.startswith(step.name + "_")]
        reasons = part.column("reason").to_pylist() if "reason" in part.column_names else None
        for row, doc_id in enumerate(part.column("id").to_pylist()):
            values = {"reason": reasons[row] if reasons else None}
            for column in columns:
                value = part.column(column)[row].as_py()
                values[column.removeprefix(step.name + "_")] = (
                    round(value, 4) if isinstance(value, float) else value
                )
            rows[names[int(doc_id.split("/")[1])]] = values
    return dict(sorted(rows.items()))


@pytest.mark.parametrize(
    "step",
    [GopherQuality(), GopherRepetition(), FineWebQuality(), C4Quality(), TextLength()],
    ids=lambda step: step.name,
)
def test_filter_signals_per_script(golden, step):
    """Each filter's signals on one paragraph per script (Chinese words are jieba's, ...)."""
    texts = [(text + "\n") * 2 + text for text in PARAGRAPHS.values()]
    golden.check(f"segmentation/signals_{step.name}", outcome(step, texts, list(PARAGRAPHS)))


def _gold() -> dict:
    path = Path(__file__).parent / "golden/segmentation/gold_words.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _f1(segment, sentences: list[str]) -> float:
    found = gold = correct = 0
    for sentence in sentences:
        words = sentence.split()
        predicted = segment("".join(words))
        ends = set(np.cumsum([len(w) for w in words]).tolist())
        predicted_ends = set(np.cumsum([len(w) for w in predicted]).tolist())
        found, gold = found + len(predicted_ends), gold + len(ends)
        correct += len(ends & predicted_ends)
    return 2 * correct / (found + gold)


def test_default_segmenters_beat_dictionary_free_schemes():
    """Boundary F1 on the hand-segmented sentences (bench/segmentation.py has the table)."""
    gold = _gold()
    for lang, system in (("zh", "chinese"), ("ja", "japanese"), ("th", "thai")):
        sentences = [s.replace(" 。", "").replace(" 、", "").replace(" ，", "") for s in gold[lang]]
        scores = {name: _f1(segment, sentences) for name, segment in SEGMENTERS[system].items()}
        default = next(iter(scores))
        assert scores[default] == max(scores.values()), (lang, scores)
        assert scores[default] > 0.8, (lang, scores)


def test_a_batch_splits_as_its_texts_do():
    from gristmill.segmentation import has_non_spaced, split_words
    from gristmill.segmentation.english_batch import split_english_batch

    texts = [
        "",
        "   ",
        "The mill's wheel (1850) turned, didn't it? Mr. Hale cannot say.",
        "Prices: $5.00, 10km, 5% — U.S.-made\u00a0goods\u2003and\x1ccafé naïve “quotes”.",
        "日本語の文です。 And English after it.",
        "中文 mixed with words, and 2024.",
        "gonna wanna ... ….. e.g. i.e. http://example.com/a?b=c x@y.org",
    ]
    words, counts = split_english_batch(texts, has_non_spaced, split_words)
    expected = [split_words(text) for text in texts]
    assert counts.tolist() == [len(e) for e in expected]
    assert words.to_pylist() == [word for e in expected for word in e]


def test_batch_split_knows_every_white_space_character():
    """The batch split's list of non-ASCII white space is scanned only up to U+3000."""
    from gristmill.segmentation import english_batch

    beyond = [c for c in range(english_batch._SPACE_LIMIT, 0x110000) if chr(c).isspace()]
    assert beyond == []
    assert "\\x{3000}" in english_batch._OTHER_SPACE and "\\x{a0}" in english_batch._OTHER_SPACE


def test_repeated_short_runs_are_segmented_once_with_the_same_words(monkeypatch):
    """Page furniture repeats the same short runs ("首页", "联系我们"): each is segmented once
    and kept; a long run is segmented every time; a caller may change the list it gets."""
    import gristmill.segmentation as segmentation

    calls = []
    jieba = SEGMENTERS["chinese"]["jieba"]

    def counted(run):
        calls.append(run)
        return jieba(run)

    monkeypatch.setattr(segmentation, "_run_cache", {})
    monkeypatch.setitem(SEGMENTERS, "chinese", {"jieba": counted})
    short, long = "联系我们首页", "这座水车建于十九世纪现在对游客开放村民们每天早上在河边散步你去过吗"
    first = segmentation.segment_run(short, "cjk")
    first.append("changed")
    for _ in range(3):
        assert segmentation.segment_run(short, "cjk") == jieba(short)
        assert segmentation.segment_run(long, "cjk") == jieba(long)
    assert calls == [short] + [long] * 3
    # the same characters in a Japanese document are MeCab's, kept apart from jieba's
    mecab = SEGMENTERS["japanese"]["mecab"]
    assert segmentation.segment_run(short, "cjk", japanese=True) == mecab(short)
