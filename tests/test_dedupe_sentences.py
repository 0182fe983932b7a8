"""Sentence-level de-duplication: splitting, span removal, in-document repetition, and
cross-corpus span dedup (datatrove sentences, CCNet lines) on a real Dask cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gristmill.dedupe.repetition import RepeatedUnits
from gristmill.dedupe.sentences import looks_like_code, normalize_units, split_units
from gristmill.dedupe.span_removal import remove_spans
from gristmill.documents import make_batch
from gristmill.io.writers import read_table
from gristmill.pipelines.config import load_config
from gristmill.pipelines.runner import dask_client, run_pipeline
from tests.corpus import write_config

PROSE = (
    "Mr. Hale opened the mill in 1871. It ground wheat for three villages! Did it pay? "
    "Not at first, e.g. in the wet years. The U.S. Army bought flour from it in 1898.\n"
    "Opening hours\n"
    "The old wheel turned slowly and every\n"
    "autumn the farmers brought their grain. J. R. R. Tolkien never visited."
)
CHINESE = "磨坊建于一八七一年。它为三个村庄磨小麦！生意好吗？起初并不好。"
JAPANESE = "水車はゆっくり回った。農家は秋に穀物を運んだ。"
CODE = (
    "import os\n\n"
    "def read_config(path):\n"
    "    with open(path) as handle:\n"
    "        data = handle.read()\n"
    "    return parse(data)\n\n"
    "class Mill:\n"
    "    speed = 3\n"
)

BOILERPLATE = (
    "We use cookies to improve your experience on our site. By continuing to browse, you "
    "agree to our use of cookies. Read our privacy policy to learn more."
)
HELPER = (
    "def normalize(value):\n"
    "    value = value.strip()\n"
    "    value = value.lower()\n"
    "    return value\n"
)
DOCUMENTS = {
    "mill": (
        "The water mill on the Tarn was rebuilt in 1871 after a flood destroyed the old "
        "wheel. Its new overshot wheel drove four pairs of stones. Farmers from three "
        "villages brought their wheat there every autumn.\n\n" + BOILERPLATE
    ),
    "bread": (
        "Stone-ground flour keeps more of the germ than roller-milled flour. Bakers say it "
        "gives bread a nuttier taste. It also spoils sooner, so mills ground small batches "
        "through the winter.\n\n" + BOILERPLATE + "\n\nComments are closed."
    ),
    "fair": (
        "WE USE COOKIES to improve your experience on our site.  By continuing to browse, "
        "you agree to our use of cookies! Read our privacy policy, to learn more.\n\n"
        "The harvest fair opens on Saturday with a parade of carts from every farm in the "
        "valley. Prizes go to the best loaf, the heaviest marrow and the oldest working "
        "cart. Entry is free for children under twelve."
    ),
    "notice": "Opening hours changed this week.\n\n" + BOILERPLATE,
    "closed": "The shop is closed on Monday.\n\n" + BOILERPLATE,
    "tool_a": "import sys\n\n" + HELPER + "\n\ndef main():\n    print(normalize(sys.argv[1]))\n",
    "tool_b": (
        "import json\n\n" + HELPER + "\n\ndef load(path):\n    with open(path) as handle:\n"
        "        return [normalize(v) for v in json.load(handle)]\n"
    ),
}
NAV_PAGES = {
    "p1": "Home\nAbout us\nContact\nThe mill opens at nine on weekdays and at ten on Sundays.",
    "p2": "Home\nAbout us\nContact\nGuided tours of the wheel house start every hour.",
    "p3": "Our flour is stone-ground from local wheat.\nOur flour is stone-ground from local wheat.",
}


def test_sentences_english_abbreviations_wrapped_lines_and_scripts_without_spaces(golden):
    result = {}
    for name, text in {"prose": PROSE, "chinese": CHINESE, "japanese": JAPANESE}.items():
        spans, kind = split_units(text)
        assert kind == "sentences"
        result[name] = [text[start:end] for start, end in spans]
    golden.check("dedupe_sentences/splitting", result)
    assert result["chinese"][1] == "它为三个村庄磨小麦！"
    assert "Mr. Hale opened the mill in 1871." in result["prose"]


def test_code_like_text_falls_back_to_lines(golden):
    assert looks_like_code(CODE) and not looks_like_code(PROSE)
    spans, kind = split_units(CODE)
    assert kind == "lines"
    lines = [CODE[start:end] for start, end in spans]
    assert lines == [line.strip() for line in CODE.splitlines() if line.strip()]
    spans, kind = split_units(PROSE, unit="lines")
    assert kind == "lines" and len(spans) == 4
    golden.check("dedupe_sentences/code_lines", lines)


def test_normalized_units_ignore_case_spacing_punctuation_and_optionally_digits():
    keys = normalize_units(["The  Mill, 1871!", "the mill 1871", "Café 42", "—"])
    assert keys[0] == keys[1] == "the mill 1871"
    assert keys[3] == ""
    assert normalize_units(["Café 42"], strip_accents=True, digits_to_zero=True) == ["cafe 00"]


def test_removing_spans_leaves_tidy_separators():
    text = "One. Two. Three.\nFour.\n\nFive.\n    six()\n    seven()"

    def cut(*parts: str) -> str:
        return remove_spans(text, [(text.index(p), text.index(p) + len(p)) for p in parts])

    assert cut("Two.") == "One. Three.\nFour.\n\nFive.\n    six()\n    seven()"
    assert cut("Three.", "Four.") == "One. Two.\n\nFive.\n    six()\n    seven()"
    assert cut("six()") == "One. Two. Three.\nFour.\n\nFive.\n    seven()"
    assert cut("One.") == "Two. Three.\nFour.\n\nFive.\n    six()\n    seven()"


def test_repetition_keeps_the_first_copy_and_leaves_code_alone(golden):
    texts = [
        "The wheel turns. The stones grind the wheat. The wheel turns. Flour falls into the "
        "bin. The stones grind the wheat.",
        "Buy now!\nBuy now!\nFresh flour every morning at the mill shop.\n"
        "Fresh flour every morning at the mill shop.",
        CODE + "\n" + CODE,
    ]
    batch = make_batch([f"t/s/{i}" for i in range(3)], "t", texts, [None] * 3, [None] * 3)
    result = RepeatedUnits().process(batch, "repetition")
    out = result.kept.column("text").to_pylist()
    assert out[2] == texts[2]
    assert out[1] == "Buy now!\nBuy now!\nFresh flour every morning at the mill shop."
    golden.check("dedupe_sentences/repetition", {"texts": out, "counters": dict(result.counters)})
    twice = RepeatedUnits(max_occurrences=2, min_unit_chars=0).process(batch, "repetition")
    assert twice.kept.column("text").to_pylist()[1] == texts[1]


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2) as client:
        yield client


def _write_jsonl(folder: Path, shards: dict[str, dict[str, str]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for shard, documents in shards.items():
        with (folder / f"{shard}.jsonl").open("w", encoding="utf-8") as handle:
            for name, text in documents.items():
                handle.write(json.dumps({"text": text, "url": name}) + "\n")


def _run(tmp_path: Path, client, stage: dict, shards: dict[str, dict[str, str]]) -> tuple:
    _write_jsonl(tmp_path / "corpus", shards)
    data = {
        "output": str(tmp_path / "out"),
        "write_rejected": True,
        "sources": [{"name": "web", "paths": [str(tmp_path / "corpus")], "format": "jsonl",
                     "stages": [stage]}],
    }  # fmt: skip
    run = run_pipeline(load_config(write_config(tmp_path / "p.yaml", data)), client)
    kept, rejected = {}, {}
    for path in sorted((tmp_path / "out" / "data").rglob("*.arrow")):
        for row in read_table(str(path)).to_pylist():
            kept[row["url"]] = row["text"]
    for path in sorted((tmp_path / "out" / "rejected").rglob("*.arrow")):
        for row in read_table(str(path)).to_pylist():
            rejected[row["url"]] = row["reason"]
    return kept, rejected, run["sources"]["web"]["stages"][-1]


def test_boilerplate_repeated_across_documents_is_kept_once(tmp_path, client, golden):
    shards = {
        "a": {k: DOCUMENTS[k] for k in ("mill", "tool_a", "notice", "closed")},
        "b": {k: DOCUMENTS[k] for k in ("bread", "fair", "tool_b")},
    }
    kept, rejected, stats = _run(tmp_path, client, {"span_dedup": {"min_doc_words": 8}}, shards)
    everything = "\n".join(kept.values())
    assert everything.count("We use cookies") + everything.count("WE USE COOKIES") == 1
    assert everything.count("def normalize(value):") == 1  # code: windows of 3 lines
    # one of the two short notices keeps the paragraph, the other is left too short
    assert len(rejected) == 1 and set(rejected) <= {"notice", "closed"}
    assert set(rejected.values()) == {"span_dedup:too_short"}
    assert stats["counters"]["docs_changed"] == 5
    golden.check(
        "dedupe_sentences/span_dedup",
        {"kept": kept, "rejected": rejected, "counters": stats["counters"]},
    )


def test_ccnet_lines_removes_every_copy_of_a_line_shared_by_documents(tmp_path, client, golden):
    stage = {"span_dedup": {"method": "ccnet_lines", "min_doc_words": 0}}
    kept, rejected, stats = _run(tmp_path, client, stage, {"a": NAV_PAGES})
    assert kept["p1"] == "The mill opens at nine on weekdays and at ten on Sundays."
    assert kept["p3"] == NAV_PAGES["p3"]  # repeated inside one document only
    assert not rejected
    golden.check("dedupe_sentences/ccnet_lines", {"kept": kept, "counters": stats["counters"]})


def test_a_shard_emptied_before_the_global_steps_is_handled(tmp_path, client):
    from tests.test_dedupe_decontamination import _write_benchmarks

    stages = [
        {"length": {"min_words": 5}},
        {"span_dedup": {"min_doc_words": 8}},
        {"decontaminate": {"benchmarks": _write_benchmarks(tmp_path / "bench")}},
    ]
    shards = {"a": {"tiny": "Too short."}, "b": {k: DOCUMENTS[k] for k in ("mill", "bread")}}
    _write_jsonl(tmp_path / "corpus", shards)
    data = {"output": str(tmp_path / "out"), "sources": [
        {"name": "web", "paths": [str(tmp_path / "corpus")], "format": "jsonl", "stages": stages}]}  # fmt: skip
    run = run_pipeline(load_config(write_config(tmp_path / "p.yaml", data)), client)
    assert run["sources"]["web"]["docs_out"] == 2
    assert run["sources"]["web"]["stages"][2]["counters"]["docs_changed"] == 1
