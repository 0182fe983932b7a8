"""Classifier-based quality filtering with GPT-3's Pareto resampling.

GPT-3 (Brown et al. 2020, appendix A) trained a logistic-regression classifier with
curated reference text (WebText, Wikipedia, books) as positives and raw Common Crawl as
negatives, and kept a crawled document when ``np.random.pareto(α) > 1 − score`` with
α = 9: mostly high-scoring documents, plus some low-scoring ones for diversity. Here the
classifier is a fastText supervised model (as in CCNet-based and DCLM pipelines) trained
by ``gristmill classifier train``; ``quality_classifier_score`` is its probability of the
positive label. The Pareto draw is deterministic per document: ``xxh64(seed:id)`` gives a
uniform ``u`` and the Lomax inverse CDF ``(1 − u)^(−1/α) − 1`` (numpy's ``pareto``) the
draw, so a document gets the same decision on any number of workers, in any order.
``threshold`` switches to a plain cut-off (keep when ``score ≥ threshold``) instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash
from pydantic import Field

from gristmill.filters.model_files import cached_per_file_version, verify_sha256
from gristmill.steps import Filter

POSITIVE_LABEL = "hq"
NEGATIVE_LABEL = "lq"
_LABEL_PREFIX = "__label__"
_MAX_CHARS = 100_000
#: ASCII and Unicode spaces (RE2's \s is ASCII only; HTML text is full of no-break spaces)
_WHITESPACE = (
    r"[\s\x{00A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{0085}]+"
)


def classifier_texts(texts: pa.Array | pa.ChunkedArray) -> list[str]:
    """The text a quality classifier sees, in training and scoring alike: lower-cased,
    any run of whitespace (newlines, no-break spaces) one space, at most 100,000 characters."""
    lowered = pc.utf8_lower(pc.utf8_slice_codeunits(texts, 0, _MAX_CHARS))
    return pc.utf8_trim_whitespace(
        pc.replace_substring_regex(lowered, _WHITESPACE, " ")
    ).to_pylist()


def pareto_draws(ids: Sequence[str], alpha: float, seed: int) -> np.ndarray:
    """One Lomax(α) draw per document id, a pure function of (seed, id)."""
    hashes = np.fromiter(
        (xxhash.xxh64_intdigest(f"{seed}:{doc_id}".encode()) for doc_id in ids),
        dtype=np.uint64,
        count=len(ids),
    )
    uniform = (hashes >> np.uint64(11)).astype(np.float64) / float(1 << 53)  # in [0, 1)
    return np.power(1.0 - uniform, -1.0 / alpha) - 1.0


class QualityClassifier(Filter):
    """Keep documents by a fastText quality score and a seeded Pareto draw (GPT-3)."""

    name = "quality_classifier"

    model: str = Field(description="fastText model from `gristmill classifier train`")
    model_sha256: str | None = Field(None, pattern=r"^[0-9a-fA-F]{64}$")
    positive_label: str = POSITIVE_LABEL
    alpha: float = Field(9.0, gt=0, description="shape of the Pareto draw (GPT-3: 9)")
    seed: int = 0

    def input_files(self) -> tuple[str, ...]:
        return (self.model,)
    threshold: float | None = Field(
        None, ge=0.0, le=1.0, description="keep when score >= threshold instead of drawing"
    )

    def scores(self, texts: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Probability of the positive label for each text."""
        model = load_classifier(self.model, self.model_sha256)
        wanted = _LABEL_PREFIX + self.positive_label
        labels, probabilities = model.predict(classifier_texts(texts), k=-1)
        result = np.zeros(len(labels), dtype=np.float32)
        for row, (names, values) in enumerate(zip(labels, probabilities, strict=True)):
            for name, value in zip(names, values, strict=True):
                if name == wanted:
                    result[row] = min(float(value), 1.0)
                    break
        return result

    def signals(self, batch: pa.Table) -> dict[str, Any]:
        scores = self.scores(batch.column("text"))
        draws = pareto_draws(batch.column("id").to_pylist(), self.alpha, self.seed)
        return {"score": scores, "draw": draws}

    def decide(self, signals: dict[str, Any]) -> Sequence[str | None]:
        scores = np.asarray(signals["score"], dtype=np.float64)
        if self.threshold is not None:
            keep = scores >= self.threshold
        else:
            keep = np.asarray(signals["draw"]) > 1.0 - scores
        return [None if kept else "low_quality" for kept in keep.tolist()]


@cached_per_file_version(maxsize=4)
def load_classifier(path: str, sha256: str | None = None):
    """A fastText classifier, verified (when a digest is given) and loaded once per process."""
    import fasttext

    if not Path(path).is_file():
        raise FileNotFoundError(f"quality classifier model {path} does not exist")
    if sha256:
        verify_sha256(path, sha256)
    return fasttext.load_model(path)
