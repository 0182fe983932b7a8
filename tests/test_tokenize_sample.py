"""The training sample's building blocks: sentence cutting, seeded hashes, per-source targets."""

from __future__ import annotations

import numpy as np
import pytest

from gristmill.tokenize.config import TokenizerConfig
from gristmill.tokenize.sample import line_probabilities, line_uniforms, splitmix64
from gristmill.tokenize.sentences import cut_long_line, split_sentences


def test_lines_are_kept_blank_lines_dropped_and_long_lines_cut_at_spaces(golden):
    text = (
        "First line.\n\n   \nSecond line, with  two spaces.\r\n"
        + "word " * 40
        + "\n"
        + "字" * 50
        + "\n"
        + "x" * 150
    )
    sentences = split_sentences(text, 64)
    assert all(len(s.encode("utf-8")) <= 64 for s in sentences)
    assert "" not in sentences and not any(s.isspace() for s in sentences)
    golden.check("tokenize/sentences", sentences)


@pytest.mark.parametrize(
    "line", ["a" * 500, "ab " * 200, "😀" * 100, "é" * 333 + " " + "中" * 111, "x" * 63 + "€" * 9]
)
def test_a_cut_line_is_the_same_text_in_pieces_of_at_most_max_bytes(line):
    pieces = cut_long_line(line, 64)
    assert "".join(pieces) == line
    assert all(0 < len(p.encode("utf-8")) <= 64 for p in pieces)


def test_line_uniforms_are_seeded_uniform_and_independent_of_batching():
    first = line_uniforms(0, "web/part-0/7", 2000)
    assert np.array_equal(first, line_uniforms(0, "web/part-0/7", 2000))
    assert np.array_equal(first[:10], line_uniforms(0, "web/part-0/7", 10))
    assert not np.array_equal(first, line_uniforms(1, "web/part-0/7", 2000))
    assert first.min() >= 0 and first.max() < 1
    assert abs(first.mean() - 0.5) < 0.03  # 2000 uniforms: standard error 0.0065
    assert splitmix64(np.array([1, 2], dtype=np.uint64)).dtype == np.uint64


def test_targets_follow_the_weights_when_every_source_has_enough_text():
    totals = {
        "web": {"docs": 10, "bytes": 1_000_000, "lines": 10_000},
        "books": {"docs": 10, "bytes": 200_000, "lines": 2000},
    }
    plan = line_probabilities(totals, {"web": 3.0, "books": 1.0}, 400_000, None)
    assert plan["web"]["target_bytes"] == pytest.approx(300_000)
    assert plan["web"]["probability"] == pytest.approx(0.3)
    assert plan["books"]["probability"] == pytest.approx(0.5)
    assert not plan["web"]["warning"] and not plan["books"]["warning"]
    capped = line_probabilities(totals, {"web": 3.0, "books": 1.0}, 400_000, 1000)
    assert capped["web"]["probability"] == pytest.approx(750 / 10_000)


def test_a_scarce_source_keeps_its_share_by_capping_the_others():
    totals = {
        "web": {"docs": 10, "bytes": 10_000_000, "lines": 100_000},
        "books": {"docs": 2, "bytes": 20_000, "lines": 200},
        "code": {"docs": 0, "bytes": 0, "lines": 0},  # no text: left out of the shares
    }
    weights = {"web": 0.8, "books": 0.1, "code": 0.1}
    plan = line_probabilities(totals, weights, 4_000_000, None)
    assert plan["code"]["share"] == 0.0
    assert plan["books"]["share"] == pytest.approx(0.1 / 0.9)
    expected = {name: totals[name]["bytes"] * plan[name]["probability"] for name in totals}
    sample = sum(expected.values())
    assert expected["books"] == pytest.approx(20_000)  # all it has
    assert expected["books"] / sample == pytest.approx(0.1 / 0.9)  # not 0.5 %
    assert "'books' has 20,000 bytes" in plan["books"]["warning"]
    assert "the sample holds 180,000 bytes" in plan["books"]["warning"]
    loose = line_probabilities(totals, weights, 4_000_000, None, keep_shares=False)
    assert loose["web"]["target_bytes"] == pytest.approx(0.8 / 0.9 * 4_000_000)
    assert "its share of the sample is smaller" in loose["books"]["warning"]


def test_config_defaults_follow_llama_and_reject_contradictions():
    config = TokenizerConfig()
    assert (config.backend, config.model_type, config.byte_fallback, config.split_digits) == (
        "sentencepiece", "bpe", True, True,
    )  # fmt: skip
    assert config.normalization == "identity" and config.token_dtype() == "uint16"
    assert config.special_tokens.ids() == {"unk": 0, "bos": 1, "eos": 2, "pad": 3}
    assert TokenizerConfig(vocab_size=100_000).token_dtype() == "int32"
    no_bos = TokenizerConfig(special_tokens={"bos": None})
    assert no_bos.special_tokens.ids() == {"unk": 0, "bos": None, "eos": 1, "pad": 2}
    with pytest.raises(ValueError, match="byte-level BPE only"):
        TokenizerConfig(backend="huggingface", model_type="unigram")
    with pytest.raises(ValueError, match="distinct"):
        TokenizerConfig(special_tokens={"pad": "</s>"})
    with pytest.raises(ValueError, match="extra"):
        TokenizerConfig(vocab=10)
