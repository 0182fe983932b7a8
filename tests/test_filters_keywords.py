"""Keyword and boilerplate filtering on hand-written pages: bad words by language, HTML/JS
remnants, cookie and terms lines, lorem ipsum; document drop or line removal."""

from __future__ import annotations

import os

import pyarrow as pa
import pytest

from gristmill.documents import encode_meta, make_batch
from gristmill.filters.keywords import Keywords, read_word_list
from gristmill.steps import REASON_COLUMN

RECIPE = """\
Rye Bread from the Mill

Mix 500 g of our dark rye flour with 10 g of salt and a spoon of honey.
Add the starter and 400 ml of warm water, then knead for ten minutes.
Bake at 220 degrees for forty minutes, until the loaf sounds hollow."""

SCRAPED = """\
<div class="nav"><a href="/">Home</a></div>
How the Mill Grinds
The stones turn at about 120 revolutions a minute, driven by the wheel.
Grain falls from the hopper through the eye of the runner stone.
We use cookies to improve your experience. Accept all cookies
var _gaq = _gaq || []; _gaq.push(['_trackPageview']);
Copyright 2024 Ashford Mill. All rights reserved.
The flour is sieved into three grades before it is bagged."""

SPAM = """\
Hot singles near the mill! Watch free porn videos of farm girls now.
Click here for hentai videos and more."""

INNOCENT = """\
The Scunthorpe mill shipped flour to Sussex and Essex by canal.
Pornographic? No: the new exhibition shows the cocktail menus of the old mill cafe."""

LOREM = """\
Our Story
Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.
The mill has stood here since 1782."""

CHINESE = "磨坊的面粉很好。这里有色情内容。"

PAGES = {
    "recipe": RECIPE,
    "scraped": SCRAPED,
    "spam": SPAM,
    "innocent": INNOCENT,
    "lorem": LOREM,
    "only_boilerplate": "We use cookies on this site.\n<div>&nbsp;</div>",
}


def _batch(pages: dict[str, str], metas: list[str | None] | None = None) -> pa.Table:
    n = len(pages)
    return make_batch(list(pages), "web", list(pages.values()), [None] * n, metas or [None] * n)


def _summary(result, step_id: str) -> dict:
    kept = {row["id"]: {"text": row["text"], **{k[len(step_id) + 1 :]: v for k, v in row.items()
                                                 if k.startswith(step_id + "_")}}
            for row in result.kept.to_pylist()}  # fmt: skip
    rejected = {}
    if result.rejected is not None:
        rejected = dict(zip(result.rejected.column("id").to_pylist(),
                            result.rejected.column(REASON_COLUMN).to_pylist(), strict=True))  # fmt: skip
    return {"kept": kept, "rejected": rejected, "counters": dict(result.counters)}


def test_default_drops_bad_words_and_lorem_and_removes_boilerplate_lines(golden):
    result = Keywords().process(_batch(PAGES), "keywords")
    summary = _summary(result, "keywords")
    golden.check("filters/keywords_default", summary)
    assert summary["rejected"] == {
        "spam": "keywords:bad_words",
        "lorem": "keywords:lorem_ipsum",
        "only_boilerplate": "keywords:empty",
    }
    scraped = summary["kept"]["scraped"]["text"]
    assert "<div" not in scraped and "cookies" not in scraped and "_gaq" not in scraped
    assert "rights reserved" not in scraped and "runner stone" in scraped
    assert summary["kept"]["innocent"]["bad_words"] == 0  # whole words only
    assert summary["kept"]["recipe"]["text"] == RECIPE


def test_line_removal_and_switched_off_categories(golden):
    step = Keywords(bad_words="remove_lines", boilerplate="drop", lorem_ipsum="off")
    pages = {**PAGES, "spam": SPAM + "\nThe mill shop opens at nine.", "all_spam": SPAM}
    summary = _summary(step.process(_batch(pages), "kw"), "kw")
    golden.check("filters/keywords_lines", summary)
    assert summary["kept"]["spam"]["text"] == "The mill shop opens at nine."
    assert summary["kept"]["spam"]["bad_words"] == 2
    assert summary["rejected"] == {
        "scraped": "kw:boilerplate",
        "only_boilerplate": "kw:boilerplate",
        "all_spam": "kw:empty",
    }
    assert summary["kept"]["lorem"]["text"] == LOREM


def test_word_lists_by_language(tmp_path):
    wordlist = tmp_path / "zh.txt"
    wordlist.write_text("# Chinese, matched anywhere\n色情\n", encoding="utf-8")
    french = tmp_path / "fr.txt"
    french.write_text("merde\n", encoding="utf-8")
    step = Keywords(word_lists={"zh": str(wordlist), "fr": str(french)})
    pages = {"zh": CHINESE, "fr": "Le moulin, merde alors, est fermé.", "de": "Die Mühle. Porn."}
    metas = [encode_meta({"language": "zh"}), None, encode_meta({"language": "de"})]
    batch = _batch(pages, metas).append_column("lid_lang", pa.array(["zh_Hans", "fr", "de"]))
    result = step.process(batch, "keywords")
    assert dict(result.removed_by_reason()) == {"keywords:bad_words": 2}
    assert result.kept.column("id").to_pylist() == ["de"]  # no German list: nothing to match
    assert result.counters["bad_words_no_list"] == 1
    assert read_word_list(wordlist) == ["色情"]


def test_a_missing_word_list_is_a_clear_error(tmp_path):
    step = Keywords(word_lists={"en": str(tmp_path / "missing.txt")})
    with pytest.raises(ValueError, match="missing.txt"):
        step.process(_batch({"a": "Some text."}), "keywords")


def test_an_edited_word_list_is_read_again_by_the_same_process(tmp_path):
    french = tmp_path / "fr.txt"
    french.write_text("merde\n", encoding="utf-8")
    step = Keywords(word_lists={"fr": str(french)}, default_language="fr")
    batch = _batch({"fr": "Le moulin, merde alors, est fermé."})
    assert dict(step.process(batch, "keywords").removed_by_reason()) == {"keywords:bad_words": 1}
    french.write_text("zut\n", encoding="utf-8")
    os.utime(french, ns=(1, 1))  # a different modification time, however fast the test is
    assert dict(step.process(batch, "keywords").removed_by_reason()) == {}
    assert step.input_files() == (str(french),)
