"""Perplexity under an n-gram language model, with CCNet's head/middle/tail buckets.

The metric-based filter of the survey (§4.1.2) as CCNet does it (Wenzek et al. 2020, §3.3,
``cc_net/perplexity.py``): each line is normalised (:mod:`gristmill.filters.lm_normalize`),
cut into SentencePiece pieces and scored by a 5-gram KenLM model trained on a reference
corpus (CCNet used Wikipedia); a document's perplexity is
``10 ** (-(sum of line log10 probabilities) / (pieces + one </s> per line))``. Per language,
two cut-offs split documents into ``head`` (ppl below the first), ``middle`` and ``tail``
(CCNet's English cut-offs 340/520 are the default shape; ``gristmill lm cutoffs``
computes them as the 30th/60th percentiles of the data to filter, as CCNet did).

Models come in CCNet's layout — ``<model_dir>/<lang>.arpa.bin`` (or ``.arpa``, ``.bin``)
beside ``<lang>.sp.model``, so CCNet's released models work as they are, as do those of
``gristmill lm train`` — or as an explicit ``model`` + ``tokenizer`` pair. The language of
each document is the lid step's ``lid_lang`` signal when present, else ``language``.
By default the ``tail`` bucket is dropped: CCNet itself only split its corpus into the
three buckets, and the corpora built from it (LLaMA, RedPajama-v1) kept head and middle.
Documents with no model for their language, or no text left to score, are ``unscored``
(NaN score, null bucket) and kept unless ``unscored: drop``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from pydantic import Field, model_validator

from gristmill.filters.lm_normalize import normalize_batch
from gristmill.filters.model_files import cached_per_file_version
from gristmill.steps import Filter

Bucket = Literal["head", "middle", "tail"]
#: CCNet's English perplexity cut-offs (30th and 60th percentiles of its web data)
DEFAULT_CUTOFFS: dict[str, tuple[float, float]] = {"en": (340.0, 520.0)}
CUTOFFS_FILE = "cutoffs.json"
MODEL_SUFFIXES = (".arpa.bin", ".arpa", ".bin")


class Perplexity(Filter):
    """Score documents with KenLM over SentencePiece pieces; drop configured buckets."""

    name = "perplexity"

    model_dir: str | None = Field(
        None, description="folder of <lang>.arpa.bin (or .arpa) + <lang>.sp.model models"
    )
    model: str | None = Field(None, description="a KenLM model file (ARPA or binary)")
    tokenizer: str | None = Field(None, description="the SentencePiece model of `model`")
    language: str = Field(
        "en",
        description="language of documents without a language column; its model must exist",
    )
    language_column: str | None = Field(
        "lid_lang", description="column holding each document's language, when present"
    )
    cutoffs: dict[str, tuple[float, float]] | None = Field(
        None,
        description="per language (head, tail) perplexity cut-offs; default: "
        "<model_dir>/cutoffs.json, else CCNet's en 340/520",
    )
    drop: list[Bucket] = Field(default_factory=lambda: ["tail"])
    unscored: Literal["keep", "drop"] = "keep"

    def input_files(self) -> tuple[str, ...]:
        return tuple(path for path in (self.model_dir, self.model, self.tokenizer) if path)

    def with_base_dir(self, base_dir: str | os.PathLike[str]) -> Perplexity:
        """The same step with relative model paths made relative to ``base_dir`` (the folder
        of the config file that names them)."""
        update = {
            key: os.path.join(os.fspath(base_dir), value)
            for key in ("model_dir", "model", "tokenizer")
            if (value := getattr(self, key)) and "://" not in value and not os.path.isabs(value)
        }
        return self.model_copy(update=update) if update else self

    @model_validator(mode="after")
    def _one_model_source(self) -> Perplexity:
        explicit = self.model is not None or self.tokenizer is not None
        if explicit == (self.model_dir is not None):
            raise ValueError("give either model_dir, or model and tokenizer")
        if explicit and (self.model is None or self.tokenizer is None):
            raise ValueError("model and tokenizer go together")
        for language, (head, tail) in (self.cutoffs or {}).items():
            if not 0 < head <= tail:
                raise ValueError(f"cutoffs[{language}] must satisfy 0 < head <= tail")
        return self

    def model_files(self, language: str) -> tuple[Path, Path] | None:
        """The (KenLM model, SentencePiece model) of ``language``, or None when absent."""
        if self.model is not None and self.tokenizer is not None:
            return (Path(self.model), Path(self.tokenizer)) if language == self.language else None
        assert self.model_dir is not None
        folder = Path(self.model_dir)
        tokenizer = folder / f"{language}.sp.model"
        for suffix in MODEL_SUFFIXES:
            model = folder / f"{language}{suffix}"
            if model.is_file() and tokenizer.is_file():
                return model, tokenizer
        return None

    def bucket_cutoffs(self) -> dict[str, tuple[float, float]]:
        if self.cutoffs is not None:
            return self.cutoffs
        if self.model_dir is not None:
            saved = read_cutoffs(str(Path(self.model_dir) / CUTOFFS_FILE))
            if saved:
                return saved
        return DEFAULT_CUTOFFS

    def document_languages(self, batch: pa.Table) -> list[str]:
        column = self.language_column
        if column and column in batch.column_names:
            return [lang or "" for lang in batch.column(column).to_pylist()]
        return [self.language] * batch.num_rows

    def score(self, batch: pa.Table) -> tuple[np.ndarray, list[str]]:
        """Perplexity of each document (NaN when unscored) and its language."""
        if self.model_files(self.language) is None:
            raise FileNotFoundError(
                f"perplexity: no model for language {self.language!r} "
                f"(looked for {self._expected_files(self.language)})"
            )
        languages = self.document_languages(batch)
        texts = batch.column("text").to_pylist()
        perplexities = np.full(len(texts), np.nan)
        for language in sorted(set(languages)):
            files = self.model_files(language)
            if files is None:
                continue
            rows = [i for i, lang in enumerate(languages) if lang == language]
            log10_sum, tokens = score_texts([texts[i] for i in rows], str(files[0]), str(files[1]))
            with np.errstate(divide="ignore", invalid="ignore"):
                values = np.where(tokens > 0, np.power(10.0, -log10_sum / tokens), np.nan)
            perplexities[rows] = np.round(values, 1)
        return perplexities, languages

    def signals(self, batch: pa.Table) -> dict[str, Any]:
        perplexities, languages = self.score(batch)
        cutoffs = self.bucket_cutoffs()
        buckets: list[str | None] = []
        for value, language in zip(perplexities.tolist(), languages, strict=True):
            bounds = cutoffs.get(language)
            if bounds is None or np.isnan(value):
                buckets.append(None)
            elif value < bounds[0]:
                buckets.append("head")
            elif value < bounds[1]:
                buckets.append("middle")
            else:
                buckets.append("tail")
        return {"score": perplexities, "bucket": pa.array(buckets, type=pa.string())}

    def decide(self, signals: dict[str, Any]) -> Sequence[str | None]:
        buckets = pa.array(signals["bucket"]).to_pylist()
        scores = np.asarray(signals["score"], dtype=np.float64)
        dropped = set(self.drop)
        reasons: list[str | None] = []
        for bucket, value in zip(buckets, scores.tolist(), strict=True):
            if bucket in dropped:
                reasons.append(bucket)
            elif np.isnan(value) and self.unscored == "drop":
                reasons.append("unscored")
            else:
                reasons.append(None)
        return reasons

    def _expected_files(self, language: str) -> str:
        if self.model is not None:
            return f"{self.model} + {self.tokenizer}"
        names = [f"{language}{suffix}" for suffix in MODEL_SUFFIXES]
        return f"{' | '.join(names)} + {language}.sp.model in {self.model_dir}"


def score_texts(
    texts: Sequence[str], model_path: str, tokenizer_path: str
) -> tuple[np.ndarray, np.ndarray]:
    """Per text: the sum of its lines' log10 probabilities and its token count.

    Each non-empty normalised line is scored as a sentence (``<s> … </s>``, as CCNet's
    ``DocLM``); a line counts its pieces plus one for ``</s>``.
    """
    model = load_kenlm(model_path)
    lines: list[str] = []
    owners: list[int] = []
    for index, text in enumerate(normalize_batch(texts)):
        for line in text.split("\n"):
            line = line.strip()
            if line:
                lines.append(line)
                owners.append(index)
    log10_sum = np.zeros(len(texts))
    tokens = np.zeros(len(texts), dtype=np.int64)
    if not lines:
        return log10_sum, tokens
    pieces = piece_lines(lines, tokenizer_path)
    line_scores = np.fromiter(
        (model.score(line, bos=True, eos=True) for line, _ in pieces),
        dtype=np.float64,
        count=len(pieces),
    )
    line_tokens = np.fromiter((n + 1 for _, n in pieces), dtype=np.int64, count=len(pieces))
    owner_index = np.asarray(owners, dtype=np.int64)
    np.add.at(log10_sum, owner_index, line_scores)
    np.add.at(tokens, owner_index, line_tokens)
    return log10_sum, tokens


def piece_lines(lines: Sequence[str], tokenizer_path: str) -> list[tuple[str, int]]:
    """Each line as space-separated SentencePiece pieces, with its piece count.

    Encoding to ids and mapping them through the piece table is twice as fast as asking
    SentencePiece for strings; unknown characters become ``<unk>`` for KenLM.
    """
    tokenizer = load_sentencepiece(tokenizer_path)
    piece_of = piece_table(tokenizer_path).__getitem__
    return [
        (" ".join(map(piece_of, ids)), len(ids))
        for ids in tokenizer.encode(list(lines), out_type=int, num_threads=1)
    ]


@cached_per_file_version(maxsize=8)
def load_kenlm(path: str):
    """A KenLM model, loaded once per process."""
    import kenlm

    if not Path(path).is_file():
        raise FileNotFoundError(f"KenLM model {path} does not exist")
    return kenlm.Model(path)


@cached_per_file_version(maxsize=8)
def load_sentencepiece(path: str):
    """A SentencePiece model, loaded once per process."""
    import sentencepiece

    if not Path(path).is_file():
        raise FileNotFoundError(f"SentencePiece model {path} does not exist")
    return sentencepiece.SentencePieceProcessor(model_file=path)


@cached_per_file_version(maxsize=8)
def read_cutoffs(path: str) -> dict[str, tuple[float, float]]:
    """``{language: [head, tail]}`` from a cutoffs.json written by ``gristmill lm cutoffs``."""
    file = Path(path)
    if not file.is_file():
        return {}
    data = json.loads(file.read_text(encoding="utf-8"))
    return {language: (float(v["head"]), float(v["tail"])) for language, v in data.items()}


@cached_per_file_version(maxsize=8)
def piece_table(path: str) -> list[str]:
    """The piece string of every SentencePiece id (``<unk>`` for the unknown piece)."""
    tokenizer = load_sentencepiece(path)
    return [tokenizer.id_to_piece(i) for i in range(tokenizer.get_piece_size())]
