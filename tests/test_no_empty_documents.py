"""No step leaves an empty document behind: a document whose text a transform or a span
removal empties is removed as ``<step>:empty`` and counted (issue 15, item 6)."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pytest

from gristmill.documents import make_batch
from gristmill.pipelines.runner import dask_client
from gristmill.steps import StepResult, Transform, drop_emptied
from tests.test_dedupe_sentences import _run


class _Blanker(Transform):
    """Empties the texts that mention a number, without giving a reason itself."""

    name = "blanker"

    def rewrite(self, batch: pa.Table):
        texts = batch.column("text").to_pylist()
        new = ["  \n" if any(c.isdigit() for c in t) else t for t in texts]
        return new, [None] * len(new), Counter(rewritten=1)


def _batch(texts: list[str]) -> pa.Table:
    return make_batch(
        [f"t/s/{i}" for i in range(len(texts))],
        "t",
        texts,
        [None] * len(texts),
        [None] * len(texts),
    )


def test_a_transform_that_empties_a_document_removes_it_under_its_reason():
    result = _Blanker().process(_batch(["keep me", "page 2", "also kept"]), "blanker")
    assert result.kept.column("text").to_pylist() == ["keep me", "also kept"]
    assert result.rejected.column("reason").to_pylist() == ["blanker:empty"]
    assert result.rejected.column("id").to_pylist() == ["t/s/1"]
    assert result.counters["rewritten"] == 1


def test_drop_emptied_keeps_the_step_s_own_rejected_rows_and_columns():
    batch = _batch(["gone", "", "fine"])
    rejected = batch.slice(0, 1).append_column("reason", pa.array(["s:other"]))
    rejected = rejected.append_column("extra", pa.array(["x"]))
    result = drop_emptied(StepResult(kept=batch.slice(1), rejected=rejected), "s")
    assert result.kept.column("text").to_pylist() == ["fine"]
    assert result.rejected.column("reason").to_pylist() == ["s:other", "s:empty"]
    assert result.rejected.column("extra").to_pylist() == ["x", None]


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=1) as client:
        yield client


NAVIGATION = "Home | About | Contact\nSign in to your account\nCopyright 2024 The Mill Shop"


@pytest.mark.parametrize(
    "stage",
    [
        {"span_dedup": {"method": "ccnet_lines", "min_doc_words": 0}},
        {"span_dedup": {"n_sentences": 1, "min_doc_words": 0}},
    ],
)
def test_span_dedup_removes_the_documents_it_empties(tmp_path, client, stage):
    shards = {
        "a": {"nav1": NAVIGATION, "story": NAVIGATION + "\nThe mill opens at nine on weekdays."},
        "b": {"nav2": NAVIGATION},
    }
    kept, rejected, stats = _run(tmp_path, client, stage, shards)
    assert all(text.strip() for text in kept.values())
    assert "story" in kept and rejected, (kept, rejected)
    assert set(rejected.values()) == {"span_dedup:empty"}
    assert stats["removed"] == {"span_dedup:empty": len(rejected)}
    assert stats["docs_in"] == stats["docs_out"] + len(rejected)
