"""Hostile configs: alias bombs, devices and FIFOs as step inputs, huge files, devices as
the config itself. Each is refused as a config error naming the key, never a hang."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from gristmill.pipelines.config import ConfigError, load_config
from gristmill.pipelines.step_inputs import MAX_INPUT_BYTES
from tests.corpus import write_config

ALIAS_BOMB_UNDER_DATATROVE_PARAMS = """\
output: out
sources:
  - name: web
    paths: [corpus/*.jsonl]
    format: jsonl
    stages:
      - datatrove:
          class_path: datatrove.pipeline.filters.C4ParagraphFilter
          params:
            a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
            b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
            c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
            d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
            e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
            f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
            g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
            h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
            i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``gristmill`` in a child process with 2 GB of address space and a hang guard."""

    def limit_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2 * 2**30, 2 * 2**30))

    return subprocess.run(
        [sys.executable, "-m", "gristmill.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit_memory,
        env={
            **os.environ,
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
            "COLUMNS": "300",
        },
    )


def _source(tmp_path: Path, stages: list) -> dict:
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    (corpus / "part-0.jsonl").write_text('{"text": "one document"}\n', encoding="utf-8")
    return {
        "output": str(tmp_path / "out"),
        "sources": [
            {"name": "web", "paths": [str(corpus / "*.jsonl")], "format": "jsonl",
             "stages": stages}
        ],
    }  # fmt: skip


def test_an_alias_bomb_under_datatrove_params_is_a_config_error_in_the_cli(tmp_path):
    (tmp_path / "bomb.yaml").write_text(ALIAS_BOMB_UNDER_DATATROVE_PARAMS, encoding="utf-8")
    result = _cli("run", "bomb.yaml", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "alias bomb" in result.stderr and "bomb.yaml" in result.stderr
    assert not (tmp_path / "out").exists()


def test_a_recursive_alias_is_refused(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("output: out\nsources: &s [{name: web, paths: *s}]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="recursive alias"):
        load_config(path)


def test_anchors_within_budget_build_the_stages(tmp_path):
    corpus = _source(tmp_path, [])["sources"][0]["paths"][0]
    path = tmp_path / "p.yaml"
    path.write_text(
        f"output: {tmp_path / 'out'}\nsources:\n  - name: web\n    paths: [{corpus}]\n"
        "    format: jsonl\n    stages:\n      - length: &len {min_words: 3}\n"
        "      - length: {<<: *len, max_words: 100}\n",
        encoding="utf-8",
    )
    stages = load_config(path).sources[0].stages
    assert [s.step.min_words for s in stages] == [3, 3]
    assert stages[1].step.max_words == 100


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
@pytest.mark.parametrize(
    ("stage", "key"),
    [
        ({"keywords": {"word_lists": {"en": "DEVICE"}}}, "keywords.word_lists.en"),
        ({"perplexity": {"model_dir": "DEVICE"}}, "perplexity.model_dir"),
        ({"perplexity": {"model": "DEVICE", "tokenizer": "DEVICE"}}, "perplexity.model"),
        ({"quality_classifier": {"model": "DEVICE"}}, "quality_classifier.model"),
        ({"lid": {"model": "DEVICE"}}, "lid.model"),
        (
            {"decontaminate": {"benchmarks": [{"name": "b", "path": "DEVICE",
                                               "fields": ["question"]}]}},
            "decontaminate.benchmarks[0].path",
        ),
    ],
)  # fmt: skip
def test_a_device_as_step_input_is_a_config_error_naming_the_key(tmp_path, device, stage, key):
    stage = _replace(stage, "DEVICE", device)
    path = write_config(tmp_path / "p.yaml", _source(tmp_path, [stage]))
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    message = str(raised.value)
    assert f"sources[0].stages[0].{key}: {device}: is a character device" in message
    assert str(path) in message


def test_the_cli_refuses_dev_zero_as_a_word_list_without_hanging(tmp_path):
    stage = {"keywords": {"word_lists": {"en": "/dev/zero"}}}
    write_config(tmp_path / "p.yaml", _source(tmp_path, [stage]))
    result = _cli("run", "p.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert "keywords.word_lists.en: /dev/zero: is a character device" in result.stderr


def test_a_model_dir_holding_a_fifo_or_a_link_to_a_device_is_refused(tmp_path):
    model_dir = tmp_path / "lm"
    model_dir.mkdir()
    (model_dir / "en.sp.model").write_bytes(b"model")
    os.mkfifo(model_dir / "en.arpa.bin")
    path = write_config(
        tmp_path / "p.yaml", _source(tmp_path, [{"perplexity": {"model_dir": "lm"}}])
    )
    with pytest.raises(ConfigError, match=r"perplexity.model_dir: .*en.arpa.bin is a FIFO"):
        load_config(path)
    (model_dir / "en.arpa.bin").unlink()
    (model_dir / "en.arpa.bin").symlink_to("/dev/urandom")
    with pytest.raises(ConfigError, match=r"en.arpa.bin is a character device"):
        load_config(path)
    (model_dir / "en.arpa.bin").unlink()
    (model_dir / "en.arpa.bin").write_bytes(b"arpa")
    assert load_config(path).sources[0].stages[0].step.model_dir == str(model_dir)


def test_a_word_list_glob_matching_a_fifo_is_refused(tmp_path):
    lists = tmp_path / "lists"
    lists.mkdir()
    os.mkfifo(lists / "en.txt")
    stage = {"keywords": {"word_lists": {"en": str(lists / "*.txt")}}}
    path = write_config(tmp_path / "p.yaml", _source(tmp_path, [stage]))
    with pytest.raises(ConfigError, match=r"word_lists.en: .*en.txt: is a FIFO"):
        load_config(path)


def test_a_word_list_larger_than_the_bound_is_refused(tmp_path):
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:  # sparse: no disk space is used
        handle.truncate(MAX_INPUT_BYTES + 1)
    stage = {"keywords": {"word_lists": {"en": str(huge)}}}
    path = write_config(tmp_path / "p.yaml", _source(tmp_path, [stage]))
    with pytest.raises(ConfigError, match=r"word_lists.en: .*huge.txt: is [\d,]+ bytes; at most"):
        load_config(path)


@pytest.mark.parametrize("config", ["/dev/zero", "/dev/urandom"])
def test_a_device_as_the_config_file_is_refused(config):
    with pytest.raises(ConfigError, match="must be a regular file"):
        load_config(config)


def _replace(value, old: str, new: str):
    if isinstance(value, str):
        return new if value == old else value
    if isinstance(value, dict):
        return {key: _replace(item, old, new) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace(item, old, new) for item in value]
    return value
