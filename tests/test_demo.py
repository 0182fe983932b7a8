"""The demo: a corpus built from this Python installation, run end to end by the CLI."""

from __future__ import annotations

import json

import pytest

from gristmill.cli import main
from gristmill.io.writers import read_table

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out), "--workers", "2"]) == 0
    return out


def test_demo_reads_every_source_and_accounts_for_every_record(demo):
    run = json.loads((demo / "output" / "run.json").read_text())
    assert set(run["sources"]) == {"web", "code", "books"}
    web_read = run["sources"]["web"]["stages"][0]
    # each WARC holds warcinfo, request/response pairs, a mirrored page, a revisit, a PNG
    assert web_read["removed"]["warc:revisit"] == 2
    assert web_read["removed"]["warc:non_html"] == 2
    assert web_read["removed"]["warc:request"] == web_read["docs_out"] - 2
    for source in run["sources"].values():
        stages = source["stages"]
        for before, after in zip(stages, stages[1:], strict=False):
            assert before["docs_out"] == after["docs_in"]
        assert stages[-1]["docs_out"] == source["docs_out"] > 0


def test_demo_dedups_the_mirrored_page_and_the_copied_book(demo):
    run = json.loads((demo / "output" / "run.json").read_text())
    dedup = {
        name: next(stage["removed"] for stage in s["stages"] if stage["stage"] == "exact_dedup")
        for name, s in run["sources"].items()
    }
    assert dedup["web"] == {"exact_dedup:duplicate": 2}
    assert dedup["books"] == {"exact_dedup:duplicate": 1}
    rejected = read_table(
        str(next((demo / "output" / "rejected" / "web" / "exact_dedup").glob("*.arrow")))
    )
    assert rejected.column("url").to_pylist()[0].startswith("https://mirror.example.net/")


def test_demo_books_lose_their_gutenberg_header_and_footer(demo):
    texts = [
        text
        for path in sorted((demo / "output" / "data" / "books").glob("*.arrow"))
        for text in read_table(str(path)).column("text").to_pylist()
    ]
    assert len(texts) == 8
    assert not any("PROJECT GUTENBERG EBOOK" in text for text in texts)
    assert all("\r" not in text for text in texts)


def test_demo_decontaminates_against_the_stand_in_benchmark(demo):
    run = json.loads((demo / "output" / "run.json").read_text())
    stage = next(s for s in run["sources"]["web"]["stages"] if s["stage"] == "decontaminate")
    assert sum(v for k, v in stage["counters"].items() if "chars" in k) > 0, stage["counters"]


def test_demo_leaves_a_report(demo):
    stats = json.loads((demo / "output" / "report" / "stats.json").read_text())
    assert stats["totals"]["docs_out"] == sum(s["docs_out"] for s in stats["sources"].values())
    assert (demo / "output" / "report" / "funnel.png").stat().st_size > 5000
