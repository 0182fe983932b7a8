"""Recipes of published pipelines (presets): each validates, `gristmill init` writes one
out, and (evaluation tier) each runs on the real corpora of ../shared/data."""

from __future__ import annotations

import pytest
import yaml

from gristmill.cli import main
from gristmill.pipelines.config import load_config
from gristmill.pipelines.presets import preset_names, preset_path
from gristmill.pipelines.runner import dask_client, run_pipeline

RECIPES = ["c4", "gopher", "refinedweb", "fineweb", "the_stack", "books"]


def test_every_recipe_validates_and_cites_its_source():
    assert set(RECIPES) <= set(preset_names())
    for name in preset_names():
        config = load_config(preset_path(name))
        assert config.sources and all(source.stages for source in config.sources)
        header = preset_path(name).read_text().split("\n", 1)[0]
        assert header.startswith("# "), name
    for name in RECIPES:  # each published recipe cites its paper in its first line
        header = preset_path(name).read_text().split("\n", 1)[0]
        assert any(str(year) in header for year in range(2018, 2026)), name


def test_init_writes_a_recipe_and_never_overwrites(tmp_path, capsys):
    target = tmp_path / "mine.yaml"
    assert main(["init", "fineweb", "--out", str(target)]) == 0
    assert target.read_text() == preset_path("fineweb").read_text()
    target.write_text("edited")
    assert main(["init", "fineweb", "--out", str(target)]) == 2
    assert target.read_text() == "edited"
    assert main(["init", "no_such_recipe", "--out", str(tmp_path / "x.yaml")]) == 2
    assert "available" in capsys.readouterr().err
    assert main(["init"]) == 0
    assert "Raffel et al. 2020" in capsys.readouterr().out


def _inputs(data) -> dict[str, tuple[list[str], str]]:
    warcs = [str(p) for p in sorted((data / "web" / "warc").rglob("*.warc.gz"))]
    return {
        "warc": (warcs, "warc"),
        "code": ([str(data / "code" / "repos" / "gin-gonic+gin")], "code"),
        "books": ([str(data / "books" / "gutenberg")], "books"),
    }


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2) as client:
        yield client


@pytest.mark.evaluation
@pytest.mark.integration
@pytest.mark.parametrize("recipe", RECIPES)
def test_recipe_runs_on_real_data(recipe, shared_data, tmp_path, client):
    raw = yaml.safe_load(preset_path(recipe).read_text())
    inputs = _inputs(shared_data)
    for source in raw["sources"]:
        paths, fmt = inputs[source["format"]]
        source["paths"] = paths
    raw["output"] = str(tmp_path / "out")
    config_file = tmp_path / f"{recipe}.yaml"
    config_file.write_text(yaml.safe_dump(raw))
    run = run_pipeline(load_config(config_file), client)
    for source in run["sources"].values():
        stages = source["stages"]
        for stage in stages:
            removed = sum(stage["removed"].values())
            assert stage["docs_in"] == stage["docs_out"] + removed, (recipe, stage)
        assert stages[0]["docs_in"] > 0
        if recipe != "c4":  # C4's p >= 0.99 English rule may keep none of these few pages
            assert stages[-1]["docs_out"] > 0, (recipe, stages)
