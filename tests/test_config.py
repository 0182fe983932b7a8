"""Config validation: strict keys, errors that name the file, the key and what is allowed."""

from __future__ import annotations

import pytest

from gristmill.pipelines.config import ConfigError, load_config
from tests.corpus import basic_config, write_config, write_jsonl_corpus


@pytest.fixture
def corpus(tmp_path):
    write_jsonl_corpus(tmp_path / "corpus", shards=1, docs_per_shard=5)
    return tmp_path / "corpus"


def _error(tmp_path, data) -> str:
    path = write_config(tmp_path / "bad.yaml", data)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert str(path) in message
    return message


def test_valid_config_resolves_relative_paths(tmp_path, corpus):
    data = basic_config(corpus, tmp_path / "out")
    data["output"] = "out"
    data["sources"][0]["paths"] = "corpus/*.jsonl"
    config = load_config(write_config(tmp_path / "ok.yaml", data))
    assert config.output == str(tmp_path / "out")
    assert config.sources[0].paths == (str(corpus / "*.jsonl"),)
    assert [stage.id for stage in config.sources[0].stages] == [
        "normalize",
        "length",
        "exact_dedup",
    ]
    assert config.sources[0].stages[1].step.min_words == 20
    assert config.global_order() == ["exact_dedup"]
    assert len(config.fingerprint()) == 64


def test_unknown_top_level_key_lists_allowed_keys(tmp_path, corpus):
    message = _error(tmp_path, basic_config(corpus, tmp_path / "out", outptu_format="arrow"))
    assert "outptu_format: unknown key" in message
    assert "output_format" in message


def test_unknown_format_lists_allowed_formats(tmp_path, corpus):
    data = basic_config(corpus, tmp_path / "out")
    data["sources"][0]["format"] = "wrac"
    message = _error(tmp_path, data)
    assert "sources[0].format" in message and "'wrac'" in message
    assert "warc" in message and "jsonl" in message


def test_unknown_step_lists_allowed_steps(tmp_path, corpus):
    data = basic_config(corpus, tmp_path / "out")
    data["sources"][0]["stages"].append("lenght")
    message = _error(tmp_path, data)
    assert "sources[0].stages[3]" in message and "'lenght'" in message
    assert "length" in message and "exact_dedup" in message


def test_bad_step_parameter_names_the_key(tmp_path, corpus):
    data = basic_config(corpus, tmp_path / "out")
    data["sources"][0]["stages"][1] = {"length": {"min_words": -3}}
    assert "sources[0].stages[1].length.min_words" in _error(tmp_path, data)
    data["sources"][0]["stages"][1] = {"length": {"min_wrods": 3}}
    message = _error(tmp_path, data)
    assert "sources[0].stages[1].length.min_wrods: unknown key" in message
    assert "min_words" in message


def test_unknown_reader_option_names_the_key(tmp_path, corpus):
    data = basic_config(corpus, tmp_path / "out")
    data["sources"][0]["reader"] = {"text_feild": "body"}
    message = _error(tmp_path, data)
    assert "sources[0].reader.text_feild: unknown key" in message
    assert "text_field" in message


def test_missing_required_key(tmp_path, corpus):
    data = basic_config(corpus, tmp_path / "out")
    del data["sources"][0]["paths"]
    assert "sources[0].paths: required key is missing" in _error(tmp_path, data)


def test_shared_global_step_must_agree_across_sources(tmp_path, corpus):
    data = basic_config(corpus, tmp_path / "out")
    other = dict(data["sources"][0], name="books", stages=[{"exact_dedup": {"lowercase": False}}])
    data["sources"].append(other)
    assert "different parameters" in _error(tmp_path, data)


def test_contradicting_global_order_is_an_error(tmp_path, corpus):
    data = basic_config(corpus, tmp_path / "out")
    data["sources"][0]["stages"] = ["exact_dedup", {"exact_dedup": None}]
    config = load_config(write_config(tmp_path / "twice.yaml", data))
    assert config.global_order() == ["exact_dedup", "exact_dedup_2"]
    data["sources"].append(
        dict(data["sources"][0], name="other", stages=["exact_dedup_2_does_not_exist"])
    )
    assert "unknown step" in _error(tmp_path, data)


def test_duplicate_source_names(tmp_path, corpus):
    data = basic_config(corpus, tmp_path / "out")
    data["sources"].append(dict(data["sources"][0]))
    assert "duplicate source names ['web']" in _error(tmp_path, data)


def test_not_yaml(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("sources: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)
