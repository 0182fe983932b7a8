"""The Python API: a pipeline of step objects runs on the real engine, custom steps join
through the decorator or the ``gristmill.steps`` entry-point group."""

from __future__ import annotations

import json
import sys

import pytest
import yaml

import gristmill
from gristmill.filters.length import TextLength
from gristmill.io.writers import read_table
from gristmill.pipelines import registry
from gristmill.pipelines.config import ConfigError
from gristmill.steps import Filter
from tests.example_plugin import Shouting


def _corpus(folder):
    folder.mkdir()
    docs = [
        {"text": "a calm sentence about rivers and the mills that stand beside them " * 3},
        {"text": "BUY NOW THE BEST MILLS IN TOWN, LIMITED OFFER, CALL TODAY " * 3},
        {"text": "short"},
    ]
    (folder / "part.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    return folder


@pytest.mark.integration
def test_pipeline_of_step_objects_runs_with_a_custom_step(tmp_path):
    corpus = _corpus(tmp_path / "corpus")
    pipeline = gristmill.Pipeline(
        output=tmp_path / "out",
        write_rejected=True,
        sources=[
            gristmill.Source(
                "web",
                paths=[str(corpus / "*.jsonl")],
                format="jsonl",
                stages=[TextLength(min_words=3), Shouting(max_upper_ratio=0.6), "exact_dedup"],
            )
        ],
    )
    stages_yaml = yaml.safe_load(pipeline.to_yaml())["sources"][0]["stages"]
    assert stages_yaml[1:] == [{"shouting": {"max_upper_ratio": 0.6}}, "exact_dedup"]
    run = pipeline.run(workers=1)
    stages = {s["stage"]: s for s in run["sources"]["web"]["stages"]}
    assert stages["shouting"]["removed"] == {"shouting:too_loud": 1}
    assert stages["length"]["docs_out"] == 2
    kept = read_table(str(next((tmp_path / "out" / "data").rglob("*.arrow"))))
    assert kept.num_rows == 1 and kept.column("text")[0].as_py().startswith("a calm")
    assert "shouting_upper_ratio" in kept.column_names


def test_unregistered_step_class_is_a_clear_error(tmp_path):
    class Nameless(Filter):
        pass

    source = gristmill.Source("web", paths=["x.jsonl"], format="jsonl", stages=[Nameless()])
    with pytest.raises(ValueError, match="register_step"):
        gristmill.Pipeline(output=tmp_path, sources=[source]).config()


def test_bad_step_parameters_fail_as_in_yaml(tmp_path):
    source = gristmill.Source("web", paths=["x.jsonl"], format="jsonl",
                              stages=[{"shouting": {"max_upper_ratio": 2}}])  # fmt: skip
    with pytest.raises(ConfigError, match="max_upper_ratio"):
        gristmill.Pipeline(output=tmp_path, sources=[source]).config()
    assert Shouting.name == "shouting"


def test_entry_point_group_adds_installed_steps(tmp_path, monkeypatch):
    """A package that declares ``[project.entry-points."gristmill.steps"]`` is found."""
    dist = tmp_path / "loud_steps-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: loud-steps\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        "[gristmill.steps]\nshouting_too = tests.example_plugin:Shouting\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(registry, "STEPS", dict(registry.STEPS))
    registry._add_entry_point_steps()
    assert registry.STEPS["shouting_too"] == "tests.example_plugin:Shouting"
    assert registry.step_class("shouting_too") is Shouting
    assert str(tmp_path) in sys.path
