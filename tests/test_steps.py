"""The step contracts on real text: signals, decisions, rewrites and their accounting."""

from __future__ import annotations

import pyarrow as pa

from gristmill.documents import make_batch
from gristmill.filters.length import TextLength
from gristmill.filters.text_normalize import NormalizeText
from gristmill.steps import REASON_COLUMN

TEXTS = [
    "The mill stood by the river, and every autumn the farmers brought their grain.",
    "Too short.",
    "",
    "Line one\r\nLine two\x07 with a bell\r\n\r\n\r\n\r\nAfter  blank lines   \r\n",
    "Cafe\u0301 au lait, served at the village market since 1870.",
]


def _batch() -> pa.Table:
    n = len(TEXTS)
    return make_batch([f"t/s/{i}" for i in range(n)], "t", TEXTS, [None] * n, [None] * n)


def test_length_filter_measures_then_decides(golden):
    step = TextLength(min_words=5, max_words=12)
    result = step.process(_batch(), "length")
    assert result.kept.num_rows + result.rejected.num_rows == len(TEXTS)
    golden.check(
        "steps/length",
        {
            "kept": result.kept.select(["id", "length_words", "length_chars"]).to_pylist(),
            "rejected": result.rejected.select(["id", REASON_COLUMN]).to_pylist(),
        },
    )
    assert dict(result.removed_by_reason()) == {
        "length:too_few_words": 2,
        "length:too_many_words": 1,
    }


def test_normalize_rewrites_and_drops_emptied_documents(golden):
    result = NormalizeText().process(_batch(), "normalize")
    assert result.rejected.column(REASON_COLUMN).to_pylist() == ["normalize:empty"]
    golden.check(
        "steps/normalize",
        {"texts": result.kept.column("text").to_pylist(), "counters": dict(result.counters)},
    )
    assert "\r" not in "".join(result.kept.column("text").to_pylist())
