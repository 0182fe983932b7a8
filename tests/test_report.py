"""The run report: stats.json, a self-contained HTML page that matches it, comparisons,
and a real headless Chromium rendering of the funnel chart."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from gristmill.cli import main
from gristmill.report.writer import compare_runs
from tests.corpus import basic_config, write_config, write_jsonl_corpus

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two runs of the same corpus: a normal one, and one whose length stage removes all."""
    root = tmp_path_factory.mktemp("report")
    write_jsonl_corpus(root / "corpus", shards=2, docs_per_shard=40)
    normal = write_config(root / "normal.yaml", basic_config(root / "corpus", root / "normal"))
    strict = basic_config(root / "corpus", root / "strict")
    strict["sources"][0]["stages"][1] = {"length": {"min_words": 100_000}}
    strict_path = write_config(root / "strict.yaml", strict)
    assert main(["run", str(normal), "--workers", "1"]) == 0
    assert main(["run", str(strict_path), "--workers", "1"]) == 0
    return root / "normal", root / "strict"


def _lookup(stats: dict, path: str):
    value = stats
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def _check_numbers_match(run_dir: Path) -> int:
    stats = json.loads((run_dir / "report" / "stats.json").read_text())
    page = (run_dir / "report" / "report.html").read_text()
    cells = re.findall(r'data-stat="([^"]+)">([^<]*)<', page)
    assert cells, "the page carries no numbers from stats.json"
    for path, shown in cells:
        expected = _lookup(stats, path)
        if expected is None:
            assert shown == "–"
        else:
            assert float(shown.replace(",", "")) == pytest.approx(expected, abs=0.051), path
    return len(cells)


def test_report_numbers_match_stats_json(runs):
    normal, _ = runs
    assert _check_numbers_match(normal) > 20
    stats = json.loads((normal / "report" / "stats.json").read_text())
    run = json.loads((normal / "run.json").read_text())
    assert stats["totals"]["docs_out"] == run["sources"]["web"]["docs_out"]
    length = stats["sources"]["web"]["stages"][2]
    assert length["signals"]["length_words"]["thresholds"] == [20.0, 100000.0]
    assert sum(length["signals"]["length_words"]["bins"].values()) == length["docs_in"]
    assert "length:too_few_words" in length["samples"]
    page = (normal / "report" / "report.html").read_text()
    assert "http://" not in page and "https://example.org" in page  # self-contained; samples shown
    assert 'src="data:image/png;base64,' in page


def test_report_renders_when_a_stage_removes_everything(runs):
    _, strict = runs
    _check_numbers_match(strict)
    stats = json.loads((strict / "report" / "stats.json").read_text())
    assert stats["totals"]["docs_out"] == 0
    assert stats["sources"]["web"]["stages"][2]["docs_out"] == 0


def test_report_regenerates_from_run_json_and_the_output_shards(runs, tmp_path):
    """Nothing is recomputed: run.json, plus the output shards for the texts of the kept
    documents that sampled duplicates are shown beside."""
    normal, _ = runs
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(normal / "run.json", copy / "run.json")
    shutil.copytree(normal / "data", copy / "data")
    assert main(["report", str(copy)]) == 0
    assert (copy / "report" / "report.html").read_text() == (
        normal / "report" / "report.html"
    ).read_text()


def test_compare_two_runs(runs, tmp_path):
    normal, strict = runs
    rows, page = compare_runs(str(normal), str(strict))
    length = next(r for r in rows if r["stage"] == "length")
    assert length["docs_out_b"] == 0 and length["change"] == -length["docs_out_a"]
    assert main(["report", str(normal), str(strict), "--out", str(tmp_path / "c.html")]) == 0
    assert "Run comparison" in (tmp_path / "c.html").read_text()
    assert main(["report", str(normal), str(strict), "--out", str(tmp_path / "dir")]) == 0
    assert "Run comparison" in (tmp_path / "dir" / "compare.html").read_text()


@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)
def test_page_opens_in_headless_chromium_and_shows_the_funnel(runs, tmp_path):
    from matplotlib import image

    normal, _ = runs
    shot = tmp_path / "shot.png"
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
         f"--screenshot={shot}", "--window-size=1200,1400",
         (normal / "report" / "report.html").as_uri()],
        check=True, timeout=120, capture_output=True,
    )  # fmt: skip
    pixels = image.imread(str(shot))[..., :3]
    assert pixels.std() > 0.05, "the screenshot is blank"
    # the funnel bars are drawn in #3b6ea8: find them on the rendered page
    bar = np.array([0x3B, 0x6E, 0xA8]) / 255
    matches = np.all(np.abs(pixels - bar) < 0.03, axis=-1)
    assert matches.sum() > 2000, "no funnel chart visible in the screenshot"


def test_report_separates_kept_and_removed_and_stays_small(runs):
    normal, _ = runs
    stats = json.loads((normal / "report" / "stats.json").read_text())
    length = stats["sources"]["web"]["stages"][2]
    words = length["signals"]["length_words"]
    assert sum(words["removed_bins"].values()) == length["removed_total"] > 0
    page_path = normal / "report" / "report.html"
    page = page_path.read_text()
    assert page_path.stat().st_size < 1_000_000
    assert page.count("<details class='section'") >= 6  # every section folds
    assert "src='signal-web-length_words.png'" in page
    assert (normal / "report" / "signal-web-length_words.png").exists()
    assert re.search(r"started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", page)
    assert not re.search(r"1,7\d\d,\d{3},\d{3}\.", page), "a timestamp shown as a number"


def test_every_filter_names_its_thresholds_by_signal():
    """The report marks a step's thresholds on the histograms of the signals they cut."""
    from gristmill.filters.fineweb import FineWebQuality
    from gristmill.filters.gopher_quality import GopherQuality
    from gristmill.filters.gopher_repetition import GopherRepetition

    gopher = GopherQuality().thresholds()
    assert gopher["words"] == [50.0, 100_000.0] and gopher["stop_words"] == [2.0]
    assert gopher["alpha_words_ratio"] == [0.8]
    fineweb = FineWebQuality().thresholds()  # parameters named otherwise: the calibrated map
    assert fineweb["line_punct_ratio"] == [0.12] and fineweb["char_dup_ratio"] == [0.01]
    repetition = GopherRepetition(dup_line_frac=None).thresholds()
    assert "dup_line_frac" not in repetition and repetition["dup_para_frac"] == [0.3]
    assert repetition["dup_5_gram_char_frac"] == [0.15]


def test_score_of_one_is_binned_at_or_below_one():
    import pyarrow as pa

    from gristmill.pipelines.signal_stats import UNIVERSAL_EDGES, histogram

    summary = histogram(pa.array([1.0, 1.0, 0.5, 0.0]))
    top = max(int(i) for i in summary["bins"])
    assert UNIVERSAL_EDGES[top + 1] == 1.0  # the bin (0.95, 1.0], not one above 1.0
    assert summary["bins"][str(top)] == 2


def test_pii_languages_and_flat_signals_sections():
    from gristmill.report.html import render_report

    numeric_flat = {"kind": "numeric", "edges": "universal", "bins": {"3": 7}, "n": 7,
                    "sum": 7.0, "min": 1.0, "max": 1.0, "thresholds": []}  # fmt: skip
    stage = {"stage": "lid", "docs_in": 7, "docs_out": 7, "bytes_in": 1, "bytes_out": 1,
             "removed": {}, "removed_total": 0, "wall_s": 1.0, "cpu_s": 1.0, "docs_per_s": 7.0,
             "counters": {"found:PHONE_NUMBER": 4, "found:EMAIL_ADDRESS": 2},
             "signals": {"lid_lang": {"kind": "categorical", "counts": {"en": 5, "zh": 2}},
                         "lid_flat": numeric_flat}, "samples": {}}  # fmt: skip
    stats = {"output": "o", "started": 1_796_544_631.36, "wall_s": 75.0,
             "totals": {"docs_in": 7, "docs_out": 7, "bytes_out": 1},
             "sources": {"web": {"stages": [stage]}}, "global_steps": {
                 "minhash": {"dropped": 3, "cluster_sizes": {"2": 2, "3": 1}}}}  # fmt: skip
    page, charts = render_report(stats)
    assert "PHONE_NUMBER" in page and "EMAIL_ADDRESS" in page
    assert "en 5 (71%), zh 2 (29%)" in page
    assert "lid_flat: all 7 documents: 1" in page and "signal-web-lid_flat.png" not in charts
    assert "cluster size" in page
    assert "2026-12-06" in page and "1 min 15.0 s" in page


@pytest.mark.parametrize("fmt", ["arrow", "parquet", "jsonl"])
def test_duplicate_pair_texts_stream_from_every_output_format(tmp_path, fmt):
    """The kept copies of sampled duplicates are found in a shard of any output format."""
    import pyarrow as pa

    from gristmill.io.writers import SUFFIXES, ShardWriter
    from gristmill.report.writer import _texts_of

    url = str(tmp_path / f"part{SUFFIXES[fmt]}")
    writer = ShardWriter(url, fmt)
    for start in range(0, 9000, 3000):
        ids = [f"web/part/{i}" for i in range(start, start + 3000)]
        writer.write(pa.table({"id": ids, "text": [f"text of {i}" for i in ids]}))
    writer.close()
    wanted = {"web/part/5", "web/part/8999"}
    assert _texts_of(url, wanted) == {i: f"text of {i}" for i in wanted}
