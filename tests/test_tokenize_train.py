"""Both backends trained for real on fixture text (a 1,000-token vocabulary): exact
round trips on emoji, CJK, code indentation and digits; byte-identical models for the same
sample whatever the thread count; control tokens never matched in text."""

from __future__ import annotations

import argparse
import difflib
import hashlib
import inspect
import random
import textwrap

import numpy as np
import pytest

from gristmill.tokenize.config import TokenizerConfig
from gristmill.tokenize.encode import encode_texts
from gristmill.tokenize.model import tokenizer_from_bytes
from gristmill.tokenize.sentences import split_sentences
from gristmill.tokenize.spm_backend import drop_thread_count
from gristmill.tokenize.train import train_model
from tests.token_corpus import SOURCE_WORDS, TRICKY, document

ROUND_TRIP = [
    *TRICKY,
    "    indented = {'key': [1, 2, 3]}\n        deeper\n\n\n\ttab",
    "Zahlen 1234567890 ٠١٢٣ ⅷ and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math letters",
    " leading space and trailing space ",
    "\nstarts with a newline and ends with two\n\n",
    "",
]


@pytest.fixture(scope="module")
def sentences() -> list[str]:
    rng = random.Random(3)
    docs = [document(rng, words, (3, 8)) for words in SOURCE_WORDS.values() for _ in range(150)]
    prose = [inspect.getsource(module) for module in (argparse, difflib, textwrap)]
    lines = [line for text in docs + prose for line in split_sentences(text, 4192)]
    return lines + TRICKY[:2]


def _train(config: TokenizerConfig, sentences: list[str], threads: int = 2) -> dict[str, bytes]:
    return train_model(config, iter(sentences), threads)


@pytest.fixture(scope="module")
def models(sentences) -> dict[str, dict[str, bytes]]:
    return {
        backend: _train(
            TokenizerConfig(
                backend=backend, vocab_size=1000, special_tokens={"user_defined": ["<|sep|>"]}
            ),
            sentences,
        )
        for backend in ("sentencepiece", "huggingface")
    }


def _loaded(models, backend):
    name = "tokenizer.model" if backend == "sentencepiece" else "tokenizer.json"
    return tokenizer_from_bytes(backend, models[backend][name])


@pytest.mark.parametrize("backend", ["sentencepiece", "huggingface"])
def test_round_trip_is_exact_on_emoji_cjk_code_and_digits(models, backend):
    tokenizer = _loaded(models, backend)
    assert tokenizer.vocab_size == 1000
    for text in ROUND_TRIP:
        assert tokenizer.decode(tokenizer.encode_batch([text])[0]) == text, repr(text)


def test_sentencepiece_cannot_round_trip_its_own_meta_symbol(models):
    tokenizer = _loaded(models, "sentencepiece")
    text = "a\u2581b"  # SentencePiece's whitespace symbol decodes to a space
    assert tokenizer.decode(tokenizer.encode_batch([text])[0]) == "a b"


@pytest.mark.parametrize("backend", ["sentencepiece", "huggingface"])
def test_control_tokens_are_never_matched_in_text_but_user_symbols_are(models, backend):
    tokenizer = _loaded(models, backend)
    ids = tokenizer.encode_batch(["</s> <s> <pad> <unk>"])[0]
    assert not set(ids) & {0, 1, 2, 3}
    assert [tokenizer.piece_id(p) for p in ("<unk>", "<s>", "</s>", "<pad>")] == [0, 1, 2, 3]
    separator = tokenizer.piece_id("<|sep|>")
    assert separator == 4 and separator in tokenizer.encode_batch(["a <|sep|> b"])[0]


@pytest.mark.parametrize("backend", ["sentencepiece", "huggingface"])
def test_digits_are_single_tokens_and_uncovered_characters_fall_back_to_bytes(models, backend):
    tokenizer = _loaded(models, backend)
    ids = tokenizer.encode_batch(["1234567890"])[0]
    assert len(ids) >= 10
    rare = tokenizer.encode_batch(["𝔘𝔫𝔦"])[0]  # 4-byte characters absent from the sample
    assert tokenizer.byte_mask[np.asarray(rare)].sum() >= 3 * (
        4 if backend == "sentencepiece" else 1
    )


@pytest.mark.parametrize("backend", ["sentencepiece", "huggingface"])
def test_same_sample_gives_a_byte_identical_model_whatever_the_threads(sentences, models, backend):
    config = TokenizerConfig(
        backend=backend, vocab_size=1000, special_tokens={"user_defined": ["<|sep|>"]}
    )
    again = _train(config, sentences, threads=1)
    assert again == models[backend]
    other = _train(config, sentences[::-1][: len(sentences) // 2], threads=2)
    assert other != models[backend]


def test_sentencepiece_ids_are_controls_then_user_symbols_then_bytes(models):
    import sentencepiece as spm

    model = models["sentencepiece"]["tokenizer.model"]
    assert drop_thread_count(model) == model  # the thread count is already gone
    processor = spm.SentencePieceProcessor(model_proto=model)
    assert [processor.is_control(i) for i in range(1, 4)] == [True] * 3
    assert processor.id_to_piece(4) == "<|sep|>" and not processor.is_control(4)
    assert all(processor.is_byte(i) for i in range(5, 5 + 256)) and not processor.is_byte(261)
    vocab = models["sentencepiece"]["tokenizer.vocab"].decode("utf-8").splitlines()
    assert len(vocab) == 1000 and vocab[2].startswith("</s>\t")


def test_nfkc_normalisation_is_optional_and_changes_the_text(sentences):
    config = TokenizerConfig(vocab_size=1000, normalization="nfkc")
    tokenizer = tokenizer_from_bytes("sentencepiece", _train(config, sentences)["tokenizer.model"])
    assert tokenizer.decode(tokenizer.encode_batch(["ﬁ ①"])[0]) == "fi 1"


def test_encoded_documents_end_with_eos_and_keep_their_ids():
    offsets, values, raw = encode_texts([[5, 6], [], [7]], eos_id=2, bos_id=None, dtype="uint16")
    assert offsets.tolist() == [0, 3, 4, 6]
    assert values.tolist() == [5, 6, 2, 2, 7, 2] and values.dtype == np.uint16
    assert raw.tolist() == [5, 6, 7]
    offsets, values, _ = encode_texts([[5], [6, 7]], eos_id=2, bos_id=1, dtype="int32")
    assert values.tolist() == [1, 5, 2, 1, 6, 7, 2] and offsets.tolist() == [0, 3, 7]


def test_model_sha256_is_what_the_encoders_check(tmp_path, models):
    from gristmill.tokenize.model import load_tokenizer

    path = tmp_path / "tokenizer.model"
    path.write_bytes(models["sentencepiece"]["tokenizer.model"])
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert load_tokenizer(str(path), "sentencepiece", digest).vocab_size == 1000
    with pytest.raises(ValueError, match="sha256"):
        load_tokenizer(str(path), "sentencepiece", "0" * 64)


def test_long_texts_are_encoded_in_pieces_with_exactly_the_ids_of_the_whole(models, sentences):
    tokenizer = _loaded(models, "sentencepiece")
    assert tokenizer.cuts_long_texts
    long_texts = [
        "\n".join(sentences[i : i + 400]) + " " + ROUND_TRIP[i % 5] for i in range(0, 2000, 400)
    ]
    assert max(map(len, long_texts)) > 3 * 4096
    whole = tokenizer._processor.encode(long_texts)
    assert tokenizer.encode_batch(long_texts) == whole
    assert tokenizer.decode(whole[0]) == long_texts[0]


def test_no_cutting_when_a_user_symbol_holds_a_space(sentences):
    config = TokenizerConfig(vocab_size=1000, special_tokens={"user_defined": ["new line"]})
    model = _train(config, sentences)["tokenizer.model"]
    assert not tokenizer_from_bytes("sentencepiece", model).cuts_long_texts
    nfkc = _train(TokenizerConfig(vocab_size=1000, normalization="nfkc"), sentences)
    assert not tokenizer_from_bytes("sentencepiece", nfkc["tokenizer.model"]).cuts_long_texts
