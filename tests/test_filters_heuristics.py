"""Heuristic quality filters on hand-written pages: word splitting, Gopher, C4, FineWeb,
code and book rules. Goldens under tests/golden/filters/ hold the signals and decisions."""

from __future__ import annotations

import random
import re
from collections import Counter

import numpy as np
import pyarrow as pa
import pytest

from gristmill.documents import encode_meta, make_batch
from gristmill.filters.book_quality import BookQuality
from gristmill.filters.c4 import C4Quality, line_sentences
from gristmill.filters.code_quality import CodeQuality
from gristmill.filters.fineweb import FineWebQuality
from gristmill.filters.gopher_quality import GopherQuality
from gristmill.filters.gopher_repetition import (
    GopherRepetition,
    duplicate_counts,
    lines_of,
    paragraphs_of,
)
from gristmill.pipelines.config import ConfigError, parse_config
from gristmill.segmentation import count_sentences, split_batch, split_words
from gristmill.segmentation.english import split_english
from gristmill.steps import REASON_COLUMN

ARTICLE = """\
The Old Mill Reopens Its Doors

After three years of careful restoration, the water mill on the east bank of the river opened to visitors on Saturday. The work was paid for by the village trust and a grant from the county, and it was carried out by volunteers who gave up their weekends to the project.

"We didn't know whether the wheel would turn at all," said Margaret Hale, who chairs the trust. "When the sluice was opened and the paddles began to move, half the village was there to see it." The millstones, quarried in France in the 1850s, were dressed by hand and now grind about 200 kg of wheat a day.

Visitors can buy the flour at the mill shop, which is open from 10am to 4pm on weekends. Guided tours (adults £6, children free) start every hour; the last tour leaves at 3pm. Mr. Hale's book on the history of the mill, with photographs from the 1920s, is on sale at the door for £12.50.

The trust hopes that the mill will pay for its own upkeep within five years. It is also looking for more volunteers to help with the guided tours and with the garden that runs down to the water, which was planted with the same vegetables the miller's family grew a century ago.
"""

NAV_PAGE = """\
Home
About us
Products
Contact
Login | Register
Cart (0)
Search
© 2024 Mill Supplies Ltd.
"""

HASHTAG_SPAM = (
    " ".join(
        f"#mill #flour #bread #baking #{word}"
        for word in [
            "sourdough",
            "rye",
            "spelt",
            "wholemeal",
            "organic",
            "local",
            "village",
            "market",
            "fresh",
            "daily",
        ]
    )
    + " Follow us for the best bread and the tastiest flour in town, and share with friends."
)

TEASER = (
    "\n".join(
        f"{title} and the miller said that the wheel ..."
        for title in (
            "Read more about the flood",
            "Why the river rose",
            "The night the sluice broke",
            "What the farmers saw at dawn",
            "How the village rebuilt the weir",
            "The last harvest",
        )
    )
    + "\nThe stories of the mill, told by the people who worked there and their families."
)

PRICE_TABLE = "\n".join(
    f"{n:03d} | {n * 1.25:7.2f} | {n * 3} kg | {n % 7}/{n % 12} | #{n:05d}" for n in range(1, 30)
)

NO_STOP_WORDS = (
    "Stone ground flour from organic wheat milled fresh every morning in our mill near "
    "Ashford using traditional methods passed down through six generations of millers "
    "Rye flour spelt flour wholemeal flour strong white flour pastry flour all available "
    "in small bags or large sacks for bakers Free delivery within twenty miles wholesale "
    "prices on request opening hours Tuesday until Saturday nine until five Sunday ten "
    "until four parking behind our mill dogs welcome outside cafe serves cakes scones "
    "sandwiches soup gift vouchers sold private tours arranged on request."
)

REPEATED_LINES = "\n".join(
    ["Buy flour online now!", "Best prices on flour!", "Free shipping on all flour orders!"] * 6
    + ["Our mill has been grinding flour since 1820 for the bakers of the valley."]
)

REPEATED_PHRASES = " ".join(
    ["The miller ground the grain and the baker baked the bread for the village."] * 8
    + ["On Sundays the mill was quiet, and the miller walked along the river with his dog."]
)

C4_PAGE = """\
Skip to main content
Menu
The Mill at Ashford

The mill was first recorded in 1086 in the Domesday Book[1], when it paid a rent of ten shillings.
It was rebuilt in stone in 1782 after a fire destroyed the wooden building[edit].
Please enable JavaScript to view the interactive map of the river.
The present wheel, 4.5 m across, was cast at the local foundry in 1851.
Two pairs of stones were driven by the wheel until the mill closed in 1938.
This website uses cookies to improve your experience. Read our privacy policy.
After the war the building was used as a store for animal feed.
It was restored by the village trust between 2019 and 2022, and it now grinds flour again.
Share this page
"""

C4_LOREM = ARTICLE + "\nLorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod.\n"
C4_CURLY = ARTICLE + "\nThe mill's opening hours are shown in the table {see below} for each day.\n"
C4_SHORT = "The mill is open today. It closes at four. Welcome to all visitors!\nHome\nContact us"

WEB_PAGES = {
    "article": ARTICLE,
    "nav_page": NAV_PAGE,
    "hashtag_spam": HASHTAG_SPAM,
    "teaser": TEASER,
    "price_table": PRICE_TABLE,
    "no_stop_words": NO_STOP_WORDS,
    "repeated_lines": REPEATED_LINES,
    "repeated_phrases": REPEATED_PHRASES,
    "c4_page": C4_PAGE,
    "c4_lorem": C4_LOREM,
    "c4_curly": C4_CURLY,
    "c4_short": C4_SHORT,
    "empty": "",
}


def _batch(pages: dict[str, str], metas: list[str | None] | None = None) -> pa.Table:
    n = len(pages)
    return make_batch(list(pages), "web", list(pages.values()), [None] * n, metas or [None] * n)


def _rounded(value):
    if isinstance(value, float):
        return None if np.isnan(value) else round(value, 4)
    return value


def _outcome(step, pages: dict[str, str], step_id: str, metas=None) -> dict:
    """Per document: its reason (or kept) and its signals, rounded for the golden file."""
    result = step.process(_batch(pages, metas), step_id)
    assert result.kept.num_rows + (result.rejected.num_rows if result.rejected else 0) == len(pages)
    out = {}
    tables = [result.kept] + ([result.rejected] if result.rejected is not None else [])
    for table in tables:
        for row in table.to_pylist():
            signals = {k[len(step_id) + 1 :]: _rounded(v) for k, v in row.items()
                       if k.startswith(step_id + "_")}  # fmt: skip
            out[row["id"]] = {"reason": row.get(REASON_COLUMN), "signals": signals}
    return out


# --- word splitting ------------------------------------------------------------------------

TOKENIZER_CASES = [
    "Mr. Hale's mill didn't close; it couldn't, with 200 kg/day to grind (at 10am).",
    'She said: "The U.S. Army bought 1,250 sacks - e.g. rye, spelt... and more!"',
    "Prices: $5.00, £12.50 or 10km away -- see http://mill.example.org/tours?day=sat.",
    "The well-known miller's 19-year-old son (b. 1901) wrote to j.smith@example.com :)",
    "Gonna be there at 5pm, y'all. Cannot wait!!! Won't you come? I'm sure they'll go.",
    "«Le moulin» est fermé. Die Mühle—seit 1850—ist offen. 水车在河边。End.Next line",
]


def test_word_splitting_follows_spacy_english_rules(golden):
    """Outside runs of scripts written without spaces, words are spaCy's English tokens."""
    golden.check("filters/word_tokens", {text: split_english(text) for text in TOKENIZER_CASES})


def test_word_splitting_keeps_every_character_in_order():
    rng = random.Random(3)
    alphabet = "abcXYZ019 .,;:!?'\"()[]{}-–—/…$%#@&*+=<>_~\n\t«»“”‘’é中"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        words = split_words(text)
        assert all(w and not any(c.isspace() for c in w) for w in words)
        assert "".join(words) == re.sub(r"\s", "", text)


def test_sentences_are_counted_like_spacys_sentencizer():
    assert count_sentences("The mill opened. Mr. Hale spoke! Did it work? Yes.") == 4
    assert count_sentences('He said "stop." Then he left.') == 2
    assert count_sentences("Version 3.14 of the U.S. report, e.g. page 2, is out.") == 1
    for line in ("One sentence only.", 'Quoted end."', "Two here. And here.", "Odd... yes"):
        assert line_sentences(line) == count_sentences(line)


def test_batch_words_are_reused_for_a_subset_of_the_last_batch(monkeypatch):
    import gristmill.segmentation as segmentation

    texts = ["First page, of words.", "Second page!", "Third one here."]
    whole = split_batch(texts)
    expected = split_words(texts[2]) + split_words(texts[0])

    def must_not_split(*texts: object) -> list[str]:
        raise AssertionError("the words of the last batch should have been reused")

    monkeypatch.setattr(segmentation, "split_words", must_not_split)
    monkeypatch.setattr(segmentation, "_split_words_batch", must_not_split)
    part = split_batch([texts[2], texts[0]])  # what a later step sees after a drop
    assert whole.counts.tolist() == [6, 3, 4]
    assert part.words.to_pylist() == expected
    assert part.doc.tolist() == [0] * 4 + [1] * 6
    with pytest.raises(AssertionError, match="reused"):
        split_batch(["A page not seen before."])


# --- Gopher, C4, FineWeb ---------------------------------------------------------------------


def test_gopher_quality(golden):
    outcome = _outcome(GopherQuality(), WEB_PAGES, "gopher_quality")
    golden.check("filters/gopher_quality", outcome)
    assert outcome["article"]["reason"] is None
    assert outcome["hashtag_spam"]["reason"] == "gopher_quality:max_hash_ratio"
    assert outcome["no_stop_words"]["reason"] == "gopher_quality:min_stop_words"


def test_gopher_repetition(golden):
    outcome = _outcome(GopherRepetition(), WEB_PAGES, "gopher_repetition")
    golden.check("filters/gopher_repetition", outcome)
    assert outcome["article"]["reason"] is None
    assert outcome["repeated_lines"]["reason"] == "gopher_repetition:dup_line_frac"
    assert outcome["repeated_phrases"]["reason"] == "gopher_repetition:top_3_gram"
    assert outcome["empty"]["reason"] == "gopher_repetition:empty"


def _naive_ngram_stats(text: str, n: int) -> tuple[int, int]:
    """datatrove's definitions, written out plainly: top n-gram chars, repeated n-gram chars."""
    words = split_words(text)
    grams = [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
    top = 0
    if grams:
        gram, count = Counter(grams).most_common(1)[0]
        top = len(gram) * count
    seen, repeated, index = set(), 0, 0
    while index < len(words) - n + 1:
        gram = tuple(words[index : index + n])
        if gram in seen:
            repeated += sum(map(len, gram))
            index += n
        else:
            seen.add(gram)
            index += 1
    return top, repeated


def test_ngram_statistics_match_a_plain_implementation():
    rng = random.Random(11)
    vocabulary = [
        "the",
        "mill",
        "wheel",
        "turned",
        ",",
        "and",
        ".",
        "miller",
        "ground",
        "grain",
        "river",
    ]
    texts = [" ".join(rng.choice(vocabulary[: rng.randint(2, 10)]) for _ in range(rng.randint(0, 80)))
             for _ in range(40)] + [REPEATED_PHRASES, ARTICLE]  # fmt: skip
    step = GopherRepetition(top_n_grams={2: 0.2, 3: 0.18}, dup_n_grams={3: 0.1, 5: 0.15, 7: 0.13})
    signals = step.signals(make_batch([str(i) for i in range(len(texts))], "t", texts,
                                      [None] * len(texts), [None] * len(texts)))  # fmt: skip
    for index, text in enumerate(texts):
        for n in (2, 3):
            expected = _naive_ngram_stats(text, n)[0] / len(text) if text else 0.0
            assert signals[f"top_{n}_gram_char_frac"][index] == pytest.approx(expected)
        for n in (3, 5, 7):
            expected = _naive_ngram_stats(text, n)[1] / len(text) if text else 0.0
            assert signals[f"dup_{n}_gram_char_frac"][index] == pytest.approx(expected)


def test_lines_and_paragraphs_split_as_the_regular_expressions_do():
    rng = random.Random(5)
    pieces = ["\n", "\n\n", "\n\n\n", "a", "bc", " ", "\r", "\t"]
    texts = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 14))) for _ in range(3000)]
    for text in texts:
        assert lines_of(text) == re.split(r"\n+", text)
        assert paragraphs_of(text) == re.split(r"\n{2,}", text.strip())
        seen, duplicates, chars = set(), 0, 0
        for item in lines_of(text):
            if item in seen:
                duplicates, chars = duplicates + 1, chars + len(item)
            seen.add(item)
        assert duplicate_counts(lines_of(text)) == (duplicates, chars)


def test_c4_counts_a_lines_words_as_split_plain_does():
    step = C4Quality(filter_no_terminal_punct=False, min_num_sentences=None)
    lines = ["one two.", "one two three.", "  one   two  three four.", "日本語の文です。", "x"]
    result = step.process(_batch({"page": "\n".join(lines)}), "c4")
    assert result.kept.column("text").to_pylist() == [
        "one two three.\none   two  three four.\n日本語の文です。"
    ]
    assert result.counters["lines_too_few_words"] == 2


def test_c4_removes_lines_and_drops_pages(golden):
    step = C4Quality()
    result = step.process(_batch(WEB_PAGES), "c4")
    kept = dict(zip(result.kept.column("id").to_pylist(), result.kept.column("text").to_pylist(),
                    strict=True))  # fmt: skip
    golden.check(
        "filters/c4",
        {
            "kept": kept,
            "rejected": dict(zip(result.rejected.column("id").to_pylist(),
                                 result.rejected.column(REASON_COLUMN).to_pylist(), strict=True)),
            "sentences": dict(zip(result.kept.column("id").to_pylist(),
                                  result.kept.column("c4_sentences").to_pylist(), strict=True)),
            "counters": dict(result.counters),
        },
    )  # fmt: skip
    assert "[1]" not in kept["c4_page"] and "JavaScript" not in kept["c4_page"]
    assert "cookies" not in kept["c4_page"] and "Menu" not in kept["c4_page"]
    reasons = dict(zip(result.rejected.column("id").to_pylist(),
                       result.rejected.column(REASON_COLUMN).to_pylist(), strict=True))  # fmt: skip
    assert reasons["c4_lorem"] == "c4:lorem_ipsum" and reasons["c4_curly"] == "c4:curly_bracket"
    assert reasons["c4_short"] == "c4:too_few_sentences"


def test_c4_rules_can_be_switched_off():
    step = C4Quality(filter_curly_bracket=False, filter_lorem_ipsum=False, min_num_sentences=None)
    result = step.process(_batch({"lorem": C4_LOREM, "curly": C4_CURLY, "short": C4_SHORT}), "c4")
    assert result.rejected is None and result.kept.num_rows == 3


def test_fineweb_quality(golden):
    outcome = _outcome(FineWebQuality(), WEB_PAGES, "fineweb")
    golden.check("filters/fineweb", outcome)
    assert outcome["article"]["reason"] is None
    assert outcome["nav_page"]["reason"] == "fineweb:short_line_ratio"
    assert outcome["empty"]["reason"] == "fineweb:empty"


# --- code and books ------------------------------------------------------------------------

PYTHON_FILE = '''\
"""Grind schedules for the mill."""

from dataclasses import dataclass


@dataclass
class Batch:
    grain: str
    kilograms: float

    def minutes(self, rate: float = 3.5) -> float:
        """Time to grind this batch at ``rate`` kilograms a minute."""
        return self.kilograms / rate
'''
MINIFIED_JS = "var a=" + ";".join(f"b{i}=function(c){{return c*{i}}}" for i in range(150)) + ";\n"
GENERATED_GO = "// Code generated by protoc-gen-go. DO NOT EDIT.\npackage mill\n\nconst Wheel = 1\n"
BIG_JSON = (
    "[\n" + ",\n".join(f'  {{"grain": "wholemeal wheat", "kg": {i}}}' for i in range(400)) + "\n]\n"
)
BASE64_BLOB = (
    "IMAGE = (\n"
    + "\n".join('    "' + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo" * 2 + '"' for _ in range(40))
    + "\n)\n"
)
XML_FILE = '<?xml version="1.0"?>\n<mill><wheel size="4.5"/></mill>\n'
HTML_FILE = (
    "<html><head><style>body{margin:0}</style></head><body><div><p>Mill</p></div></body></html>\n"
)
README = "# Mill\n\n" + "This library schedules the grinding of grain at a water mill. " * 12 + "\n"


def test_code_quality(golden):
    files = {
        "python": (PYTHON_FILE, "Python"),
        "minified_js": (MINIFIED_JS, "JavaScript"),
        "generated_go": (GENERATED_GO, "Go"),
        "big_json": (BIG_JSON, "JSON"),
        "base64_blob": (BASE64_BLOB, "Python"),
        "xml": (XML_FILE, "XML"),
        "html": (HTML_FILE, "HTML"),
        "readme": (README, "Markdown"),
    }
    pages = {name: text for name, (text, _) in files.items()}
    metas = [encode_meta({"language": language}) for _, language in files.values()]
    outcome = _outcome(CodeQuality(), pages, "code_quality", metas)
    golden.check("filters/code_quality", outcome)
    reasons = {name: value["reason"] for name, value in outcome.items()}
    assert reasons == {
        "python": None,
        "minified_js": "code_quality:max_line_length",
        "generated_go": "code_quality:autogenerated",
        "big_json": "code_quality:data_file_size",
        "base64_blob": "code_quality:max_encoded_fraction",
        "xml": "code_quality:xml",
        "html": "code_quality:min_html_visible_fraction",
        "readme": None,
    }


def test_book_quality(golden):
    novel = "\n\n".join(ARTICLE.split("\n\n")[1:] * 6)
    prose_lines = [line for line in novel.split(". ") if line]
    page_numbers = "\n".join(f"{line}.\n— {page} —" for page, line in enumerate(prose_lines, 1))
    garbled = novel.replace("e", "\ufffd").replace("a", "■")
    shouting = novel.upper()
    outcome = _outcome(BookQuality(min_words=500),
                       {"novel": novel, "page_numbers": page_numbers, "garbled": garbled, "shouting": shouting,
                        "fragment": ARTICLE[:400]}, "book_quality")  # fmt: skip
    golden.check("filters/book_quality", outcome)
    assert {k: v["reason"] for k, v in outcome.items()} == {
        "novel": None,
        "page_numbers": "book_quality:max_numeric_lines_ratio",
        "garbled": "book_quality:max_symbol_ratio",
        "shouting": "book_quality:max_uppercase_ratio",
        "fragment": "book_quality:min_words",
    }


# --- configuration -----------------------------------------------------------------------------


def test_steps_are_configured_from_yaml_blocks(tmp_path):
    stages = [
        "gopher_quality",
        {"gopher_repetition": {"top_n_grams": {2: 0.25}, "dup_line_frac": None}},
        {"c4": {"min_num_sentences": 3}},
        {"fineweb": {"short_line_length": 40}},
        "code_quality",
        "book_quality",
    ]
    config = parse_config({"output": str(tmp_path), "sources": [
        {"name": "web", "paths": [str(tmp_path)], "format": "jsonl", "stages": stages}]})  # fmt: skip
    steps = [stage.step for stage in config.sources[0].stages]
    assert steps[1].top_n_grams == {2: 0.25} and steps[1].dup_line_frac is None
    assert type(steps[1]).model_validate(steps[1].model_dump(mode="json")) == steps[1]
    with pytest.raises(ConfigError, match="min_wordz"):
        parse_config({"output": str(tmp_path), "sources": [
            {"name": "web", "paths": [str(tmp_path)], "format": "jsonl",
             "stages": [{"gopher_quality": {"min_wordz": 3}}]}]})  # fmt: skip


def test_filters_on_a_real_crawl_sample(shared_data, golden):
    """The first 300 documents of the dolma CommonCrawl sample (many languages): every
    document is accounted for, and the reasons per filter are a golden file."""
    from gristmill.io.base import ReaderCounts
    from gristmill.io.jsonl import JsonlReader

    reader = JsonlReader(batch_docs=300, batch_bytes=64 * 2**20)  # all 300 in one batch
    path = (
        shared_data
        / "web"
        / "jsonl"
        / "dolma"
        / "CC-MAIN-20190717121559-20190717143559-00140.jsonl.gz"
    )
    batch = next(reader.read(reader.shards("web", [str(path)])[0], ReaderCounts()))
    reasons = {}
    for name, step in (("gopher_quality", GopherQuality()), ("gopher_repetition", GopherRepetition()),
                       ("c4", C4Quality()), ("fineweb", FineWebQuality())):  # fmt: skip
        result = step.process(batch, name)
        assert result.kept.num_rows + result.rejected.num_rows == batch.num_rows
        reasons[name] = dict(sorted(result.removed_by_reason().items()))
    golden.check("filters/dolma_sample_reasons", reasons)


def test_every_gutenberg_novel_passes_the_book_rules(shared_data):
    """The book thresholds were chosen so that real novels pass: all 31 of the shared set."""
    from gristmill.io.base import ReaderCounts
    from gristmill.io.books import BookReader

    reader = BookReader()
    step = BookQuality()
    books = 0
    for shard in reader.shards("books", [str(shared_data / "books" / "gutenberg")]):
        for batch in reader.read(shard, ReaderCounts()):
            result = step.process(batch, "book_quality")
            assert result.rejected is None, result.rejected.select(
                ["url", REASON_COLUMN]
            ).to_pylist()
            books += batch.num_rows
    assert books == 31
