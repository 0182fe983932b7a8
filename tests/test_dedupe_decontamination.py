"""Benchmark decontamination: loaders and field maps, n-gram rules, the NeMo Curator-style
window removal on a real Dask cluster, and the same output for any shard split or worker
count (for span dedup too)."""

from __future__ import annotations

import gzip
import json
import random
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gristmill.dedupe.benchmarks import (
    BenchmarkError,
    BenchmarkSpec,
    build_index,
    load_benchmark,
)
from gristmill.dedupe.decontamination import Decontaminate
from gristmill.documents import make_batch
from gristmill.io.writers import read_table
from gristmill.pipelines.config import ConfigError, load_config, parse_config
from gristmill.pipelines.runner import dask_client, run_pipeline
from tests.corpus import WORDS, write_config

QUESTIONS = [
    "A baker sells 24 loaves of rye bread each morning and twice as many wheat loaves in the "
    "afternoon. If each loaf costs 3 dollars, how much money does the baker make in one day?",
    "Tom has 5 more marbles than Anna. Anna has twice as many marbles as Ben, who has 7 "
    "marbles. How many marbles do the three children have altogether?",
    "How many apples does she have left?",  # 7 tokens: too short to be an n-gram
    "Permission is hereby granted, free of charge, to any person obtaining a copy of this "
    "software and associated documentation files.",  # in many training documents: common
]
HUMANEVAL_PROMPT = (
    "def sum_of_squares(numbers: list) -> int:\n"
    '    """Return the sum of the squares of the odd numbers in the list.\n'
    "    >>> sum_of_squares([1, 2, 3])\n    10\n"
    '    """\n'
)
INTRO = (
    "Welcome to the Millbrook homeschool forum. Parents share worksheets, reading lists and "
    "the occasional recipe here. Please keep threads on topic and be kind to newcomers, "
    "many of whom are teaching their children at home for the first time this autumn. "
    "Posts with links to paid courses are removed by the moderators without notice. This "
    "week's theme is arithmetic in everyday life: shopping, baking, sharing sweets and "
    "counting the coins in a piggy bank. Share a word problem your family enjoyed and say "
    "how your children approached it."
)
OUTRO = (
    "Reply from Grace: we did this one at the kitchen table with real loaves from the market "
    "and the children worked it out faster than I did. Reply from Sam: try drawing the "
    "loaves as boxes first; my son needed that step before the numbers made sense to him. "
    "Reply from Ines: we turned it into a real market game with paper money, and my twins "
    "now ask for a new problem every morning before breakfast. Thread locked by the "
    "moderators after thirty replies; see the pinned post for next week's theme."
)


def _web_pages() -> dict[str, str]:
    rng = random.Random(3)

    def filler(words: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."

    pages = {
        "forum": f"{INTRO}\n\n{QUESTIONS[0]}\n\n{OUTRO}",
        "short_phrase": f"{INTRO}\n\nHow many apples does she have left? Three, said Mia.\n\n{OUTRO}",
        "code_answer": f"Here is my answer.\n\n{HUMANEVAL_PROMPT}    return sum(n * n for n in numbers if n % 2)\n",
        "many_splits": "\n\n".join(f"{filler(120)} Puzzle {i}: {QUESTIONS[1]}" for i in range(12)),
    }
    for i in range(11):  # the licence sentence appears in 11 documents: a common phrase
        pages[f"licence_{i:02d}"] = f"{filler(40)}\n\n{QUESTIONS[3]}\n\n{filler(40)}"
    return pages


def _write_benchmarks(folder: Path) -> list[dict]:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "gsm8k.jsonl").open("w") as handle:
        for question in QUESTIONS:
            handle.write(json.dumps({"question": question, "answer": "#### 0"}) + "\n")
    with gzip.open(folder / "HumanEval.jsonl.gz", "wt") as handle:
        handle.write(json.dumps({"task_id": "HumanEval/7", "prompt": HUMANEVAL_PROMPT,
                                 "canonical_solution": "    return 0\n", "test": "",
                                 "entry_point": "sum_of_squares"}) + "\n")  # fmt: skip
    return [
        {"name": "gsm8k", "path": str(folder / "gsm8k.jsonl")},
        {"name": "humaneval", "path": str(folder / "HumanEval.jsonl.gz")},
    ]


def test_builtin_field_maps_read_each_benchmark_format(tmp_path, golden):
    (tmp_path / "mmlu").mkdir()
    (tmp_path / "mmlu" / "astronomy_test.csv").write_text(
        "Which planet has the shortest year?,Mercury,Venus,Earth,Mars,A\n"
        '"What is the Sun mostly made of, by mass?",Iron,Hydrogen,Oxygen,Carbon,B\n'
    )
    pq.write_table(
        pa.table({"question": ["Which gas do plants take in?"], "subject": ["biology"],
                  "choices": [["Oxygen", "Carbon dioxide", "Helium", "Neon"]], "answer": [1]}),
        tmp_path / "mmlu_hf.parquet",
    )  # fmt: skip
    (tmp_path / "piqa.jsonl").write_text(json.dumps(
        {"goal": "Keep bread fresh", "sol1": "Store it in a paper bag.", "sol2": "Store it in water."}) + "\n")  # fmt: skip
    (tmp_path / "TruthfulQA.csv").write_text(
        "Type,Category,Question,Best Answer,Correct Answers,Incorrect Answers,Source\n"
        "Adversarial,Misconceptions,What happens if you crack your knuckles?,Nothing in "
        'particular happens,"Nothing happens; You may hear a pop","You will get arthritis",url\n'
    )
    pq.write_table(
        pa.table({"question": ["Can pigs fly?"],
                  "mc1_targets": [{"choices": ["No, pigs cannot fly.", "Yes."], "labels": [1, 0]}]}),
        tmp_path / "truthfulqa_mc.parquet",
    )  # fmt: skip
    (tmp_path / "hellaswag.jsonl").write_text(json.dumps(
        {"ind": 24, "ctx": "A man is kneeling on a frozen lake.", "label": 0,
         "endings": ["He drills a hole.", "He sings."]}) + "\n")  # fmt: skip
    (tmp_path / "lambada.jsonl").write_text(json.dumps({"text": "She closed the door and"}) + "\n")
    specs = _write_benchmarks(tmp_path) + [
        {"name": "mmlu", "path": str(tmp_path / "mmlu")},
        {"name": "mmlu_hf", "path": str(tmp_path / "mmlu_hf.parquet"), "format": "mmlu"},
        {"name": "piqa", "path": str(tmp_path / "piqa.jsonl")},
        {"name": "truthfulqa", "path": str(tmp_path / "TruthfulQA.csv")},
        {"name": "truthfulqa_mc", "path": str(tmp_path / "truthfulqa_mc.parquet"),
         "format": "truthfulqa"},
        {"name": "hellaswag", "path": str(tmp_path / "hellaswag.jsonl")},
        {"name": "lambada", "path": str(tmp_path / "lambada.jsonl")},
        {"name": "custom", "path": str(tmp_path / "piqa.jsonl"), "fields": ["goal"],
         "id_field": "goal"},
    ]  # fmt: skip
    loaded = {}
    for spec in specs:
        benchmark = load_benchmark(BenchmarkSpec.model_validate(spec))
        loaded[benchmark.name] = {"items": benchmark.items, "texts": benchmark.texts}
    assert loaded["mmlu"]["texts"][0] == ("0", "Which planet has the shortest year?")
    assert loaded["humaneval"]["texts"][0][0] == "HumanEval/7"
    golden.check("dedupe_sentences/benchmark_formats", loaded)


def test_benchmark_errors_name_the_benchmark_the_file_and_the_fields(tmp_path):
    specs = _write_benchmarks(tmp_path)
    with pytest.raises(
        BenchmarkError, match=r"'gsm8k'.*no field\(s\) \['prompt'\].*\['answer', 'question'\]"
    ):
        load_benchmark(BenchmarkSpec(name="gsm8k", path=specs[0]["path"], fields=("prompt",)))
    with pytest.raises(BenchmarkError, match="no files"):
        load_benchmark(BenchmarkSpec(name="gsm8k", path=str(tmp_path / "missing.jsonl")))
    data = {"output": str(tmp_path / "out"), "sources": [{
        "name": "web", "paths": [str(tmp_path)], "format": "jsonl",
        "stages": [{"decontaminate": {"benchmarks": [{"name": "mine", "path": "x.jsonl"}]}}]}]}  # fmt: skip
    with pytest.raises(ConfigError, match=r"decontaminate\.benchmarks\[0\].*needs 'fields'"):
        parse_config(data)


def test_ngrams_are_13_grams_or_the_whole_text_down_to_8_tokens(tmp_path):
    path = tmp_path / "b.jsonl"
    texts = [" ".join(f"w{i}" for i in range(20)), "one two three four five six seven eight nine ten",
             "too short to be an n-gram"]  # fmt: skip
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    index = build_index((BenchmarkSpec(name="b", path=str(path), format="lambada"),), 13, 8)
    assert index.lengths == (10, 13)
    assert index.stats["b"]["ngrams"] == 8 + 1 and index.stats["b"]["texts_too_short"] == 1


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2) as client:
        yield client


def _run(tmp_path: Path, client, pages: dict[str, str], stages: list, shards: int = 1,
         name: str = "out") -> tuple[dict, dict, dict]:  # fmt: skip
    corpus = tmp_path / f"corpus-{shards}"
    corpus.mkdir(exist_ok=True)
    items = sorted(pages.items())
    for shard in range(shards):
        with (corpus / f"part-{shard}.jsonl").open("w") as handle:
            for url, text in items[shard::shards]:
                handle.write(json.dumps({"text": text, "url": url}) + "\n")
    data = {"output": str(tmp_path / name), "write_rejected": True,
            "sources": [{"name": "web", "paths": [str(corpus)], "format": "jsonl", "stages": stages}]}  # fmt: skip
    run = run_pipeline(load_config(write_config(tmp_path / f"{name}.yaml", data)), client)
    kept, rejected = {}, {}
    for path in sorted((tmp_path / name / "data").rglob("*.arrow")):
        for row in read_table(str(path)).to_pylist():
            kept[row["url"]] = row
    for path in sorted((tmp_path / name / "rejected").rglob("*.arrow")):
        for row in read_table(str(path)).to_pylist():
            rejected[row["url"]] = row
    return kept, rejected, run


def test_a_question_in_a_web_page_is_removed_with_its_window(tmp_path, client, golden):
    stage = {"decontaminate": {"benchmarks": _write_benchmarks(tmp_path / "bench")}}
    pages = _web_pages()
    kept, rejected, run = _run(tmp_path, client, pages, [stage])

    forum = kept["forum"]["text"]
    assert "baker sells 24 loaves" not in forum
    assert forum.startswith(INTRO[:100]) and forum.endswith(OUTRO[-100:])
    assert len(forum) < len(pages["forum"]) - len(QUESTIONS[0]) - 300  # the windows went too
    record = json.loads(kept["forum"]["meta"])["decontamination"]
    assert record[0]["benchmark"] == "gsm8k" and record[0]["item"] == "0"
    assert record[0]["ngram"].startswith("a baker sells 24 loaves of rye")
    assert kept["short_phrase"]["text"] == pages["short_phrase"]  # a short common phrase
    assert all(kept[f"licence_{i:02d}"]["text"] == pages[f"licence_{i:02d}"] for i in range(11))
    reasons = {url: row["reason"] for url, row in rejected.items()}
    assert reasons == {"code_answer": "decontaminate:too_short",
                       "many_splits": "decontaminate:too_many_splits"}  # fmt: skip
    assert json.loads(rejected["code_answer"]["contamination"])[0]["item"] == "HumanEval/7"
    stats = run["sources"]["web"]["stages"][-1]
    summary = run["global_steps"]["decontaminate"]
    assert summary["ngrams_common"] >= 1
    golden.check(
        "dedupe_sentences/decontaminate_window",
        {
            "forum": forum,
            "record": record,
            "rejected": {url: json.loads(row["contamination"]) for url, row in rejected.items()},
            "counters": stats["counters"],
            "summary": {k: v for k, v in summary.items() if k.startswith(("ngrams", "matched"))},
        },
    )


def test_drop_document_mode_rejects_with_the_matched_benchmark_and_ngram(tmp_path, client):
    benchmarks = _write_benchmarks(tmp_path / "bench")
    stage = {"decontaminate": {"benchmarks": benchmarks, "mode": "drop_document"}}
    kept, rejected, _ = _run(tmp_path, client, _web_pages(), [stage])
    assert {url: row["reason"] for url, row in rejected.items()} == {
        url: "decontaminate:contaminated" for url in ("forum", "code_answer", "many_splits")
    }
    match = json.loads(rejected["many_splits"]["contamination"])
    assert match == [{"benchmark": "gsm8k", "item": "1", "ngrams": 12 * (28 - 13 + 1),
                      "ngram": "tom has 5 more marbles than anna anna has twice as many marbles"}]  # fmt: skip
    assert rejected["forum"]["text"] == _web_pages()["forum"]


def _mixed_corpus() -> dict[str, str]:
    """Documents sharing paragraphs and quoting benchmark questions, for invariance."""
    rng = random.Random(11)
    shared = [" ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + "." for _ in range(9)]
    pages = {}
    for i in range(40):
        sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20))).capitalize() + "."
                     for _ in range(rng.randint(4, 12))]  # fmt: skip
        if i % 3 == 0:
            start = rng.randrange(0, 6)
            sentences[1:1] = shared[start : start + 3]
        if i % 7 == 0:
            sentences.insert(rng.randrange(len(sentences)), QUESTIONS[i % 2])
        pages[f"doc{i:02d}"] = " ".join(sentences) + "\n\n" + INTRO
    return pages


def test_same_output_for_any_shard_split_and_worker_count(tmp_path, client):
    stages = [
        {"span_dedup": {"min_doc_words": 30}},
        {"decontaminate": {"benchmarks": _write_benchmarks(tmp_path / "bench"),
                           "min_fragment_chars": 100}},
    ]  # fmt: skip
    pages = _mixed_corpus()
    outputs = []
    for shards, name in ((1, "one"), (3, "three")):
        kept, rejected, run = _run(tmp_path, client, pages, stages, shards=shards, name=name)
        stages_stats = run["sources"]["web"]["stages"]
        outputs.append((
            {url: row["text"] for url, row in kept.items()},
            {url: row["reason"] for url, row in rejected.items()},
            [(s["stage"], s["docs_out"], s["removed"], s["counters"]) for s in stages_stats],
        ))  # fmt: skip
    assert outputs[0] == outputs[1]
    counters = dict(outputs[0][2][1][3])
    # span dedup already removed the repeated copies of the 3-sentence question
    assert counters["docs_changed"] > 5 and outputs[0][2][2][3]["docs_matched"] >= 3

    with dask_client(workers=1) as single:
        _run(tmp_path, single, pages, stages, shards=3, name="three-single")
    for path in sorted((tmp_path / "three" / "data").rglob("*.arrow")):
        twin = tmp_path / "three-single" / path.relative_to(tmp_path / "three")
        assert twin.read_bytes() == path.read_bytes()


def test_real_benchmarks_index_and_find_a_planted_question(shared_data):
    folder = shared_data / "contamination"
    step = Decontaminate(benchmarks=(
        BenchmarkSpec(name="gsm8k", path=str(folder / "gsm8k" / "test.jsonl")),
        BenchmarkSpec(name="humaneval", path=str(folder / "humaneval" / "HumanEval.jsonl.gz")),
        BenchmarkSpec(name="piqa", path=str(folder / "piqa" / "valid.jsonl")),
    ), min_fragment_chars=50)  # fmt: skip
    index = step.index()
    assert index.stats["gsm8k"]["items"] == 1319 and index.stats["humaneval"]["items"] == 164
    assert index.stats["piqa"]["items"] == 1838 and index.stats["piqa"]["texts_too_short"] > 0
    lines = (folder / "gsm8k" / "test.jsonl").read_text().splitlines()
    question = json.loads(lines[42])["question"]
    texts = [f"{INTRO}\n\n{question.upper()}\n\n{OUTRO}", f"{INTRO}\n\n{OUTRO}"]
    batch = make_batch(["w/s/0", "w/s/1"], "w", texts, [None, None], [None, None])
    signatures = step.collect(batch).to_pylist()
    state: dict[str, set[int]] = {}
    for row in signatures:
        if row["ngram"]:
            state.setdefault(row["id"], set()).add(row["ngram"])
    assert set(state) == {"w/s/0"}
    result = step.apply(batch, state, "decontaminate")
    cleaned = result.kept.column("text").to_pylist()
    assert question.upper()[:60] not in cleaned[0] and cleaned[1] == texts[1]
    assert Counter(result.counters)["matches:gsm8k"] == 1


def _collect_state(step: Decontaminate, batch) -> dict[str, set[int]]:
    state: dict[str, set[int]] = {}
    for row in step.collect(batch).to_pylist():
        if row["ngram"]:
            state.setdefault(row["id"], set()).add(row["ngram"])
    return state


def test_text_without_spaces_is_matched_character_by_character(tmp_path):
    question = "小明有五个苹果，他给了小红两个苹果。小明还剩下几个苹果？"
    (tmp_path / "cmath.jsonl").write_text(
        json.dumps({"question": question}, ensure_ascii=False) + "\n"
    )
    step = Decontaminate(
        benchmarks=(BenchmarkSpec(name="cmath", path=str(tmp_path / "cmath.jsonl"), format="gsm8k"),),
        min_fragment_chars=5, window_chars=0,
    )  # fmt: skip
    page = "今天的作业很简单。\n" + question.replace("，", ", ") + "\n老师明天会讲解答案。"
    batch = make_batch(["w/s/0"], "w", [page], [None], [None])
    result = step.apply(batch, _collect_state(step, batch), "decontaminate")
    assert result.kept.column("text").to_pylist() == ["今天的作业很简单。\n\n老师明天会讲解答案。"]


def test_relative_benchmark_paths_resolve_against_the_config_folder(tmp_path):
    step = Decontaminate(benchmarks=(BenchmarkSpec(name="gsm8k", path="evals/test.jsonl"),
                                     BenchmarkSpec(name="piqa", path="/abs/valid.jsonl")))  # fmt: skip
    moved = step.with_base_dir(tmp_path)
    assert [spec.path for spec in moved.benchmarks] == [
        str(tmp_path / "evals" / "test.jsonl"),
        "/abs/valid.jsonl",
    ]


def test_tokens_are_word_runs_or_single_characters_and_do_not_depend_on_the_batch():
    import unicodedata

    from gristmill.dedupe.ngrams import tokenize

    texts = ["Ｆｕｌｌ-width ＡＢＣ and naïve café, ΣΊΣΥΦΟΣ!", "水車は回った。Mill 42x",
             "snake_case e\u0301t\u00e9 — ไม่มีช่องว่าง", ""]  # fmt: skip

    def reference(text: str) -> list[str]:
        def single(char: str) -> bool:
            code = ord(char)
            return 0x0E00 <= code <= 0x0EFF or 0x3040 <= code <= 0x30FF or 0x4E00 <= code <= 0x9FFF

        tokens, current = [], ""
        for char in text:
            if single(char) and (char.isalnum() or unicodedata.category(char)[0] == "M"):
                tokens += [current] if current else []
                tokens.append(char)
                current = ""
            elif char.isalnum() or unicodedata.category(char)[0] == "M":
                current += char
            else:
                tokens += [current] if current else []
                current = ""
        return tokens + ([current] if current else [])

    batch = tokenize(texts)
    for index, text in enumerate(texts):
        span = batch.text_tokens(index)
        found = [text[s:e] for s, e in zip(batch.starts[span], batch.ends[span], strict=True)]
        assert found == reference(text)
        assert list(tokenize([text]).hashes) == list(batch.hashes[span])
    upper, lower = tokenize(["ＡＢＣ Café"]).hashes, tokenize(["abc CAFÉ"]).hashes
    assert list(upper) == list(lower)


def test_editing_a_benchmark_file_redoes_the_resolution_on_resume(tmp_path, client):
    specs = _write_benchmarks(tmp_path / "bench")
    stages = [{"decontaminate": {"benchmarks": specs}}]
    pages = {"forum": _web_pages()["forum"]}
    kept, _, _ = _run(tmp_path, client, pages, stages)
    assert "baker sells 24 loaves" not in kept["forum"]["text"]

    skipped: dict[int, int] = {}
    config = load_config(tmp_path / "out.yaml")
    run_pipeline(config, client, on_progress=lambda p: skipped.update({p.phase: p.skipped}))
    assert skipped == {0: 1, 1: 1}  # nothing changed: everything resumed

    gsm8k = Path(specs[0]["path"])
    lines = gsm8k.read_text().splitlines()
    gsm8k.write_text("\n".join(lines[1:]) + "\n")  # the baker's question is gone
    run_pipeline(config, client, on_progress=lambda p: skipped.update({p.phase: p.skipped}))
    assert skipped == {0: 0, 1: 0}  # the matches and the resolution are redone
    [path] = (tmp_path / "out" / "data").rglob("*.arrow")
    assert read_table(str(path)).column("text").to_pylist() == [pages["forum"]]
