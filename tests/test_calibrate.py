"""``gristmill calibrate``: thresholds at quantiles of reference text per language, read
back by ``by_language`` steps through ``calibration:``."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import yaml

from gristmill.cli import main
from gristmill.filters.gopher_quality import GopherQuality
from gristmill.pipelines.calibrate import calibrate, thresholds

SENTENCES = [
    "这座水车建于十九世纪，现在对游客开放。",
    "村民们每天早上在河边散步，孩子们在树下玩耍。",
    "这家公司的产品主要出口到欧洲和美国。",
    "经济发展需要良好的法律环境和稳定的社会秩序。",
    "会议将于下周一在北京召开，讨论环境保护问题。",
]


def chinese_reference(count: int = 40) -> list[str]:
    rng = np.random.default_rng(0)
    return ["".join(rng.choice(SENTENCES, size=rng.integers(6, 14))) for _ in range(count)]


def test_thresholds_sit_at_the_quantiles_and_skip_constant_signals():
    step = GopherQuality()
    signals = {
        "words": np.arange(1, 101, dtype=float),
        "mean_word_length": np.full(100, 2.0),
        "hash_ratio": np.zeros(100),
    }
    values, skipped = thresholds(step, signals, 0.05)
    assert values["min_words"] == 5  # 5 % of the reference lies at or under 5 words
    assert "max_hash_ratio" in skipped and "min_mean_word_length" in skipped
    assert isinstance(values["min_words"], int)


def test_calibrated_blocks_are_read_by_by_language_steps(tmp_path):
    step = GopherQuality(stop_words_from="zh")
    result = calibrate({"gopher_quality": step}, {"zh": chinese_reference()}, 0.02)
    zh = result["steps"]["gopher_quality"]["zh"]
    assert 1 < zh["min_mean_word_length"] < zh["max_mean_word_length"] < 4
    assert zh["min_stop_words"] >= 3
    path = tmp_path / "calibration.yaml"
    path.write_text(yaml.safe_dump({"steps": result["steps"]}), encoding="utf-8")
    calibrated = GopherQuality(
        calibration=str(path), by_language={"zh": {"stop_words_from": "zh", "min_words": 10}}
    )
    variant = calibrated.for_language("zh")
    assert variant.min_mean_word_length == zh["min_mean_word_length"]
    assert variant.min_words == 10  # by_language overrides the calibration
    assert calibrated.for_language("en").min_mean_word_length == 3  # not calibrated
    assert str(path) in calibrated.input_files()


def test_calibrate_command_writes_a_yaml_the_config_reads(tmp_path):
    reference = tmp_path / "zh.jsonl"
    reference.write_text(
        "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in chinese_reference()),
        encoding="utf-8",
    )
    config = tmp_path / "pipeline.yaml"
    stages = [{"gopher_quality": {"by_language": {"zh": {"stop_words_from": "zh"}}}}]
    config.write_text(yaml.safe_dump({"output": "out", "sources": [
        {"name": "web", "paths": ["in"], "format": "jsonl", "stages": stages}]}))  # fmt: skip
    out = tmp_path / "thresholds.yaml"
    code = main(["calibrate", str(config), "--reference", f"zh={reference}", "--out", str(out)])
    assert code == 0
    written = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert written["quantile"] == 0.02 and written["references"]["zh"]["documents"] == 40
    assert len(written["distributions"]["gopher_quality"]["zh"]["words"]) == 101
    # the pipeline reads it back, relative to the config file
    stages[0]["gopher_quality"]["calibration"] = out.name
    config.write_text(yaml.safe_dump({"output": "out", "sources": [
        {"name": "web", "paths": ["in"], "format": "jsonl", "stages": stages}]}))  # fmt: skip
    from gristmill.pipelines.config import load_config

    step = load_config(config).sources[0].stages[0].step
    assert (
        step.for_language("zh").min_words == written["steps"]["gopher_quality"]["zh"]["min_words"]
    )
    texts = chinese_reference(5)
    batch = pa.table({"id": [str(i) for i in range(5)], "text": texts, "lid_lang": ["zh"] * 5})
    assert step.process(batch, "gopher_quality").kept.num_rows >= 4


def test_report_draws_the_reference_beside_the_run(tmp_path):
    from gristmill.pipelines.signal_stats import histogram
    from gristmill.report.charts import signal_chart
    from gristmill.report.stats import bin_edges, stage_references

    result = calibrate({"gopher_quality": GopherQuality(stop_words_from="zh")},
                       {"zh": chinese_reference()}, 0.02)  # fmt: skip
    path = tmp_path / "calibration.yaml"
    path.write_text(yaml.safe_dump(result), encoding="utf-8")
    config = {"sources": [{"name": "web", "stages": [
        {"id": "gopher_quality", "step": "gopher_quality", "params": {"calibration": str(path)}}]}]}  # fmt: skip
    reference = stage_references(config)["web"]["gopher_quality"]["mean_word_length"]
    assert set(reference) == {"zh"} and len(reference["zh"]) == 101
    summary = histogram(pa.array(np.linspace(1.0, 3.0, 50)))
    summary = {**summary, "edges": bin_edges(summary), "reference": reference}
    assert signal_chart("web · gopher_quality_mean_word_length", summary)[:4] == b"\x89PNG"
