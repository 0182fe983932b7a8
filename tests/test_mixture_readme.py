"""The README's mixture section runs as written: its YAML block is a valid ``mixture:``
section (used here on synthetic token shards, with rows short enough for them), and each of
its Python snippets — loader, torch dataset, Hugging Face ``datasets``, Megatron-LM's
``--data-path`` — runs against that output (``out`` is the output folder). Snippets that
import torch or datasets are skipped when those are absent."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import yaml
from distributed import Client

from gristmill.mixture.stage import run_mixture_stage
from gristmill.pipelines.config import parse_config
from tests.mixture_tokens import write_two_sources

README = Path(__file__).resolve().parents[1] / "README.md"


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Mixture and the trainer")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", _section(), flags=re.S)


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("readme") / "out"
    write_two_sources(folder)
    (block,) = _blocks("yaml")
    mixture = yaml.safe_load(block)["mixture"]
    assert mixture["megatron"] is True and mixture["on_shortfall"] == "error"
    mixture.update(seq_len=16, shard_rows=37)  # rows that ~9,000 tokens fill
    config = parse_config({
        "output": str(folder),
        "sources": [{"name": n, "paths": ["unused"], "format": "jsonl", "weight": w}
                    for n, w in (("web", 0.7), ("code", 0.3))],
        "tokenizer": {},
        "mixture": mixture,
    })  # fmt: skip
    with Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as c:
        run_mixture_stage(config, c, {}, resume=True)
    return str(folder)


def test_the_section_has_the_four_snippets():
    code = "\n".join(_blocks("python"))
    for name in ("MixtureLoader(", "torch_dataset(", "Dataset.from_file(", '["megatron"]'):
        assert name in code


@pytest.mark.parametrize("index", range(4))
def test_each_python_snippet_runs(out, index):
    snippet = _blocks("python")[index]
    for module in ("torch", "datasets"):
        if re.search(rf"^import {module}$", snippet, flags=re.M) and not importlib.util.find_spec(
            module
        ):
            pytest.skip(f"{module} is not installed")
    namespace = {"out": out}
    exec(compile(snippet, f"README.md python block {index}", "exec"), namespace)
    if "input_ids" in namespace:
        assert namespace["input_ids"].shape == (8, 16)
    if "hidden" in namespace:
        assert tuple(namespace["hidden"].shape) == (8, 16, 64)
    if "batch" in namespace and "doc_start" in namespace["batch"]:
        assert tuple(namespace["batch"]["input_ids"].shape) == (8, 16)
    if "data_path" in namespace:
        assert namespace["data_path"].startswith("0.7 megatron/web_text_document")
