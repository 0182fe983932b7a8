"""The datatrove adapter: allow-listed datatrove filters and formatters as gristmill steps.

Skipped when datatrove (an optional dependency) is not installed. The filters used here
need no model or spaCy; C4's datatrove filter, with its spaCy sentence count switched off,
must decide and rewrite exactly as gristmill's ``c4`` step does.
"""

from __future__ import annotations

import pyarrow as pa
import pytest

pytest.importorskip("datatrove")

from gristmill.documents import encode_meta, make_batch  # noqa: E402
from gristmill.filters.c4 import C4Quality  # noqa: E402
from gristmill.filters.datatrove_adapter import ALLOWED_CLASSES, DatatroveStep  # noqa: E402
from gristmill.pipelines.config import ConfigError, parse_config  # noqa: E402
from gristmill.steps import REASON_COLUMN  # noqa: E402

PAGES = {
    "article": (
        "The mill was first recorded in 1086, when it paid a rent of ten shillings.[1]\n"
        "Home | About | Contact\n"
        "It was rebuilt in stone in 1782 after a fire destroyed the wooden building.\n"
        "This site uses cookies. Read our privacy policy.\n"
        "The present wheel, 4.5 m across, was cast at the local foundry in 1851."
    ),
    "lorem": "Our story began in 1782.\nLorem ipsum dolor sit amet, consectetur adipiscing elit.",
    "code": "The schedule is below, as you can see.\nfunction grind() { return 42; } runs here.",
    "menu": "Home\nShop\nContact us\n***\n---",
    "long_paragraphs": "\n".join(["The miller kept the wheel turning through the night. " * 5] * 3),
}


def _batch(pages: dict[str, str]) -> pa.Table:
    n = len(pages)
    urls = [f"https://mill.example.org/{name}" for name in pages]
    metas = [encode_meta({"language": "en"})] * n
    return make_batch(list(pages), "web", list(pages.values()), urls, metas)


def _decisions(result) -> dict[str, str | None]:
    decisions = {doc_id: None for doc_id in result.kept.column("id").to_pylist()}
    if result.rejected is not None:
        decisions.update(zip(result.rejected.column("id").to_pylist(),
                             result.rejected.column(REASON_COLUMN).to_pylist(), strict=True))  # fmt: skip
    return decisions


def test_datatrove_c4_agrees_with_gristmill_c4():
    theirs = DatatroveStep(class_path="C4QualityFilter", params={"min_num_sentences": -1})
    ours = C4Quality(min_num_sentences=None)
    batch = _batch(PAGES)
    their_result, our_result = theirs.process(batch, "dt"), ours.process(batch, "c4")
    their_decisions = {k: v and v.split(":", 1)[1] for k, v in _decisions(their_result).items()}
    our_decisions = {k: v and v.split(":", 1)[1] for k, v in _decisions(our_result).items()}
    assert their_decisions == our_decisions
    assert their_decisions["lorem"] == "lorem_ipsum" and their_decisions["code"] == "curly_bracket"
    assert (
        their_result.kept.column("text").to_pylist() == our_result.kept.column("text").to_pylist()
    )


def test_datatrove_filters_and_formatters_run_as_steps(golden):
    batch = _batch(PAGES)
    outcomes = {}
    for class_path, params in (
        ("datatrove.pipeline.filters.C4ParagraphFilter", {}),
        ("RegexFilter", {"regex_exp": r"(?i)privacy policy"}),
        ("SymbolLinesFormatter", {"replace_char": ""}),
    ):
        result = DatatroveStep(class_path=class_path, params=params).process(batch, "datatrove")
        outcomes[class_path] = {
            "decisions": _decisions(result),
            "texts": dict(
                zip(
                    result.kept.column("id").to_pylist(),
                    result.kept.column("text").to_pylist(),
                    strict=True,
                )
            ),  # fmt: skip
            "counters": dict(result.counters),
        }
    golden.check("filters/datatrove_steps", outcomes)
    regex = outcomes["RegexFilter"]["decisions"]
    assert regex["article"] == "datatrove:filtered" and regex["menu"] is None
    assert outcomes["SymbolLinesFormatter"]["texts"]["menu"] == "Home\nShop\nContact us"


def test_only_allow_listed_classes_can_be_named(tmp_path):
    def config(block):
        return {"output": str(tmp_path), "sources": [
            {"name": "web", "paths": [str(tmp_path)], "format": "jsonl", "stages": [{"datatrove": block}]}]}  # fmt: skip

    stage = parse_config(
        config({"class_path": "GopherQualityFilter", "params": {"min_doc_words": 20}})
    )
    step = stage.sources[0].stages[0].step
    assert step.class_path == ALLOWED_CLASSES["GopherQualityFilter"]
    for bad in ("os.system", "datatrove.pipeline.filters.LambdaFilter", "subprocess.Popen"):
        with pytest.raises(ConfigError, match="not allowed"):
            parse_config(config({"class_path": bad}))
    with pytest.raises(ConfigError, match="class_path"):
        parse_config(config({"params": {}}))
