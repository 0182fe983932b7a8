"""Decontamination, issue 15: MMLU's headered CSV choices are read, a benchmark file lacking
configured fields gets one warning in the run summary, and questions under 8 tokens match
as whole lines (25% of TruthfulQA's questions would otherwise never match)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gristmill.dedupe.benchmarks import BenchmarkSpec, load_benchmark, whole_line
from gristmill.dedupe.decontamination import Decontaminate
from gristmill.documents import make_batch
from gristmill.pipelines.config import load_config
from gristmill.pipelines.runner import dask_client, run_pipeline
from tests.corpus import write_config

#: questions in TruthfulQA's original CSV layout, under 8 tokens but the first
TRUTHFULQA_CSV = (
    "Type,Category,Question,Best Answer,Correct Answers,Incorrect Answers,Source\n"
    "Adversarial,Health,Is tap water safe to drink?,It depends on where you live,"
    '"It depends; In many places yes","Yes, always",url\n'
    "Adversarial,Myths,Can pigs fly?,No,No,Yes,url\n"
    "Adversarial,Misconceptions,What happens if you swallow gum while running in the rain?,"
    "It passes through,It passes,It stays for seven years,url\n"
)
MMLU_HEADERED = (
    "question,choice0,choice1,choice2,choice3,answer\n"
    "Which planet has the shortest year?,Mercury,Venus,Earth,Mars,0\n"
)
MMLU_OTHER_HEADERS = (
    "question,option_a,option_b,option_c,option_d,answer\n"
    "Which planet has the shortest year?,Mercury,Venus,Earth,Mars,0\n"
)


def _step(tmp_path: Path, **params) -> Decontaminate:
    (tmp_path / "TruthfulQA.csv").write_text(TRUTHFULQA_CSV)
    return Decontaminate(
        benchmarks=[{"name": "truthfulqa", "path": str(tmp_path / "TruthfulQA.csv")}], **params
    )


def _batch(texts: list[str]):
    ids = [f"web/s/{i}" for i in range(len(texts))]
    return make_batch(ids, "web", texts, [None] * len(texts), [None] * len(texts))


def test_headered_mmlu_csv_gives_its_choices(tmp_path):
    (tmp_path / "mmlu.csv").write_text(MMLU_HEADERED)
    loaded = load_benchmark(BenchmarkSpec(name="mmlu", path=str(tmp_path / "mmlu.csv")))
    assert [text for _, text in loaded.texts] == [
        "Which planet has the shortest year?", "Mercury", "Venus", "Earth", "Mars"
    ]  # fmt: skip
    assert loaded.questions == [True, False, False, False, False]
    assert loaded.warnings == []


def test_a_file_lacking_fields_warns_once_and_is_read_with_the_rest(tmp_path):
    (tmp_path / "mmlu").mkdir()
    (tmp_path / "mmlu" / "a.csv").write_text(MMLU_OTHER_HEADERS)
    (tmp_path / "mmlu" / "b.csv").write_text(MMLU_HEADERED)
    loaded = load_benchmark(BenchmarkSpec(name="mmlu", path=str(tmp_path / "mmlu")))
    assert len(loaded.warnings) == 1
    assert "a.csv" in loaded.warnings[0] and "['choices']" in loaded.warnings[0]
    assert "option_a" in loaded.warnings[0]  # what the file has instead
    (tmp_path / "g.jsonl").write_text(json.dumps({"question": "What is two plus two?"}) + "\n")
    spec = BenchmarkSpec(name="mine", path=str(tmp_path / "g.jsonl"), fields=("question", "answer"))
    assert "no field(s) ['answer']" in load_benchmark(spec).warnings[0]


def test_short_questions_are_indexed_as_whole_lines_and_counted(tmp_path):
    stats = _step(tmp_path).index().stats["truthfulqa"]
    # "Is tap water safe to drink?" (6 tokens) and "Can pigs fly?" (3); answers are skipped
    assert stats["questions_whole_line"] == 2
    assert stats["texts_too_short"] > 0
    skipped = _step(tmp_path, short_questions="skip").index().stats["truthfulqa"]
    assert skipped["questions_whole_line"] == 0


@pytest.mark.parametrize(
    ("line", "whole"),
    [
        ("Is tap water safe to drink?", True),
        ("Q: Is tap water safe to drink?", True),
        ("Question 12. is TAP water safe to drink", True),
        ("  3) Is tap water safe to drink?  ", True),
        ("I wonder: is tap water safe to drink? Ask a plumber.", False),
        ("Many ask whether is tap water safe to drink", False),
        ("Is tap water safe to drink? (A) Yes (B) No (C) It depends", True),
        ("Is tap water safe to drink? A. Yes B. No", True),
        ("Is tap water safe to drink? A lot of people ask.", False),
    ],
)
def test_whole_line_rule(line, whole):
    text = f"Intro line.\n{line}\nOutro line."
    start = text.lower().index("is tap")
    end = text.lower().index("drink") + len("drink")
    assert whole_line(text, start, end) is whole


def test_a_short_question_matches_only_as_a_whole_line(tmp_path):
    step = _step(tmp_path)
    texts = [
        "Quiz night notes.\nQ: Is tap water safe to drink?\nA: It depends on where you live.",
        "Travel tips: is tap water safe to drink in Lisbon? Yes, and it tastes fine.",
        "Farm facts.\n\nCan pigs fly?\n\nNo, but they can swim.",
    ]
    signatures = step.collect(_batch(texts))
    matched = {row["id"] for row in signatures.to_pylist() if row["ngram"]}
    assert matched == {"web/s/0", "web/s/2"}


def test_warnings_reach_the_run_record_once_per_file(tmp_path):
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "mmlu.csv").write_text(MMLU_OTHER_HEADERS)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for shard in range(2):
        (corpus / f"part-{shard}.jsonl").write_text(
            json.dumps({"text": "Which planet has the shortest year?\nMercury, it is.", "url": "u"})
            + "\n"
        )
    stage = {"decontaminate": {"benchmarks": [{"name": "mmlu", "path": str(tmp_path / "bench")}]}}
    data = {"output": str(tmp_path / "out"),
            "sources": [{"name": "web", "paths": [str(corpus)], "format": "jsonl", "stages": [stage]}]}  # fmt: skip
    with dask_client(workers=1) as client:
        run = run_pipeline(load_config(write_config(tmp_path / "run.yaml", data)), client)
    assert len(run["warnings"]) == 1
    assert run["warnings"][0].startswith("decontaminate: benchmark 'mmlu'")
    assert run["global_steps"]["decontaminate"]["benchmarks"]["mmlu"]["items"] == 1


def test_real_short_piqa_goals_match_on_their_own_line_only(shared_data):
    """PIQA's goals are its questions; 44% have 3 to 7 tokens and matched nothing before."""
    path = shared_data / "contamination" / "piqa" / "valid.jsonl"
    step = Decontaminate(benchmarks=[{"name": "piqa", "path": str(path)}])
    stats = step.index().stats["piqa"]
    assert stats["questions_whole_line"] > 500
    goals = [json.loads(line)["goal"] for line in path.open()]
    short = [goal for goal in goals if 3 <= len(goal.split()) < 7][:20]
    texts = [f"Quiz\nQuestion: {goal}\nAnswer below." for goal in short]
    texts += [f"Yesterday I read how to {goal.lower()} in a magazine." for goal in short]
    signatures = step.collect(_batch(texts)).to_pylist()
    matched = {int(row["id"].rsplit("/", 1)[1]) for row in signatures if row["ngram"]}
    assert matched == set(range(len(short)))
