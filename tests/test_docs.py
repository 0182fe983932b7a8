"""The docs: the Python API page's snippets run, and the generated reference covers every
registered step with its parameters."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gristmill.pipelines import registry
from gristmill.pipelines.registry import READERS, STEPS
from gristmill.pipelines.step_reference import find_doc, render_family_pages, step_docs

DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.integration
def test_python_api_page_snippets_run(tmp_path, monkeypatch):
    text = (DOCS / "python-api.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 2
    monkeypatch.chdir(tmp_path)
    # the snippet registers its own "shouting" step: keep the registry as it was
    steps = {name: path for name, path in registry.STEPS.items() if name != "shouting"}
    monkeypatch.setattr(registry, "STEPS", steps)
    namespace: dict = {"__name__": "docs_snippet"}
    for block in blocks:
        exec(compile(block, "python-api.md", "exec"), namespace)  # noqa: S102
    run = namespace["run"]
    stages = {s["stage"]: s for s in run["sources"]["web"]["stages"]}
    assert stages["exact_dedup"]["docs_out"] == 20
    assert (tmp_path / "out" / "run.json").exists()


def test_reference_lists_every_step_and_parameter():
    docs = step_docs()
    assert [d.name for d in docs] == list(STEPS)
    pages = render_family_pages(docs)
    everything = "\n".join(pages.values())
    for doc in docs:
        assert f"## `{doc.name}`" in everything
        for parameter in doc.parameters:
            assert f"`{parameter.name}`" in everything
    minhash = find_doc("minhash")
    bands = next(p for p in minhash.parameters if p.name == "bands")
    assert (bands.type, bands.default, bands.constraints) == ("int", "16", "≥ 1")
    assert minhash.family == "de-duplication" and minhash.kind == "global step"
    assert "Broder" in minhash.reference
    for name in READERS:
        assert find_doc(name).kind == "format"
    with pytest.raises(KeyError, match="known"):
        find_doc("no_such_step")
