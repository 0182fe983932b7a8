"""Train the fastText quality classifier: reference text as positives, raw web as negatives.

GPT-3's quality classifier (Brown et al. 2020, appendix A) separated curated reference
text from raw Common Crawl; fastText's supervised mode (Joulin et al. 2017, "Bag of Tricks
for Efficient Text Classification") does the same with word bigrams in seconds. Both
classes are capped at the same number of documents (balanced), shuffled with a seed, a
held-out tenth measures accuracy, precision and recall, and training runs on one thread
so that the same inputs and seed give the same model. The texts are prepared exactly as
the filter prepares them (:func:`gristmill.filters.quality_classifier.classifier_texts`).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import random
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pyarrow as pa

from gristmill.filters.model_files import sha256_of
from gristmill.filters.quality_classifier import (
    NEGATIVE_LABEL,
    POSITIVE_LABEL,
    classifier_texts,
)

#: fastText 0.9.3 allocates its input matrix without initialising it (aligned malloc) and,
#: on one thread, fills only its first tenth with random values, so the rest is whatever
#: the allocator returns — NaN included ("Encountered NaN." at random). glibc returns fresh
#: zero pages for allocations above its largest mmap threshold (32 MiB), so the matrix is
#: kept above that size: unfilled rows are then zeros, a valid initialisation.
MIN_INPUT_MATRIX_BYTES = 40 * 2**20


@dataclass
class ClassifierTraining:
    """Hyper-parameters of the fastText supervised model (fastText's names)."""

    epoch: int = 5
    lr: float = 0.1
    word_ngrams: int = 2
    dim: int = 64
    bucket: int = 1_000_000
    min_count: int = 2
    seed: int = 0
    holdout: float = 0.1
    max_documents_per_class: int | None = 100_000
    quantize: bool = False


@dataclass
class TrainedClassifier:
    """What was trained, as written to ``<model>.json``."""

    model: str
    sha256: str
    positives: int
    negatives: int
    holdout_documents: int
    accuracy: float
    precision: float
    recall: float
    params: dict = field(default_factory=dict)


def train_quality_classifier(
    positives: Iterable[str],
    negatives: Iterable[str],
    output: str | os.PathLike[str],
    params: ClassifierTraining | None = None,
) -> TrainedClassifier:
    """Train and save ``output`` (a fastText ``.bin``, or ``.ftz`` when quantised)."""
    import fasttext

    params = params or ClassifierTraining()
    bucket = max(params.bucket, math.ceil(MIN_INPUT_MATRIX_BYTES / (4 * params.dim)))
    cap = params.max_documents_per_class
    positive = _prepared(itertools.islice(positives, cap))
    negative = _prepared(itertools.islice(negatives, cap))
    if not positive or not negative:
        raise ValueError(
            f"need documents of both classes (got {len(positive)} positives, "
            f"{len(negative)} negatives)"
        )
    per_class = min(len(positive), len(negative))
    rows = [(POSITIVE_LABEL, t) for t in positive[:per_class]]
    rows += [(NEGATIVE_LABEL, t) for t in negative[:per_class]]
    random.Random(params.seed).shuffle(rows)
    held = int(len(rows) * params.holdout)
    holdout, train = rows[:held], rows[held:]

    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gristmill-classifier-") as work:
        train_file = Path(work) / "train.txt"
        train_file.write_text(
            "".join(f"__label__{label} {text}\n" for label, text in train), encoding="utf-8"
        )
        model = fasttext.train_supervised(
            input=str(train_file),
            epoch=params.epoch,
            lr=params.lr,
            wordNgrams=params.word_ngrams,
            dim=params.dim,
            bucket=bucket,
            minCount=params.min_count,
            seed=params.seed,
            thread=1,
            verbose=0,
        )
    if params.quantize:
        model.quantize(retrain=False)
    model.save_model(str(output))

    accuracy, precision, recall = _evaluate(model, holdout)
    trained = TrainedClassifier(
        model=str(output),
        sha256=sha256_of(output),
        positives=per_class,
        negatives=per_class,
        holdout_documents=len(holdout),
        accuracy=accuracy,
        precision=precision,
        recall=recall,
        params={**asdict(params), "bucket": bucket},
    )
    Path(f"{output}.json").write_text(
        json.dumps(asdict(trained), indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return trained


def _prepared(texts: Iterable[str]) -> list[str]:
    prepared = classifier_texts(pa.array(list(texts), type=pa.large_string()))
    return [text for text in prepared if text]


def _evaluate(model, holdout: list[tuple[str, str]]) -> tuple[float, float, float]:
    """Accuracy, precision and recall of the positive class on held-out documents."""
    if not holdout:
        return float("nan"), float("nan"), float("nan")
    labels, _ = model.predict([text for _, text in holdout], k=1)
    predicted = [names[0].removeprefix("__label__") if names else "" for names in labels]
    gold = [label for label, _ in holdout]
    pairs = list(zip(gold, predicted, strict=True))
    true_positive = sum(g == p == POSITIVE_LABEL for g, p in pairs)
    predicted_positive = sum(p == POSITIVE_LABEL for _, p in pairs)
    actual_positive = sum(g == POSITIVE_LABEL for g, _ in pairs)
    accuracy = sum(g == p for g, p in pairs) / len(pairs)
    precision = true_positive / predicted_positive if predicted_positive else 0.0
    recall = true_positive / actual_positive if actual_positive else 0.0
    return accuracy, precision, recall
