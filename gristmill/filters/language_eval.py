"""Accuracy of the language-ID step on labelled sentences: per language and macro average.

Macro accuracy (the mean of per-language accuracies, each language weighing the same
whatever its number of sentences) is the figure language-ID papers report (e.g. Kargaran
et al. 2023, GlotLID). The labelled set is a JSONL file of ``{text, lang,
lang_iso639_3}`` rows, as in lingua-py's test data: ISO 639-1 codes are compared with
lid.176's and the ensemble's labels (Norwegian Bokmål ``nb`` is their ``no``), ISO 639-3
codes with GlotLID's ``xxx_Scrp`` labels. Languages the step cannot output are reported
apart. ``held_out`` splits such a file by a hash of each row's id, so that thresholds can
be calibrated on one part and accuracy reported on the other.
"""

from __future__ import annotations

import json
import time
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from gristmill.filters.language import LanguageID, load_ensemble, load_fasttext_model

#: ISO 639-1 codes whose lid.176 label differs
LID176_ALIASES = {"nb": "no"}


def accuracy_by_language(gold: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    """Per gold language, the fraction of its items predicted as that language."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels for {len(predicted)} predictions")
    totals = Counter(gold)
    correct = Counter(g for g, p in zip(gold, predicted, strict=True) if g == p)
    return {language: correct[language] / totals[language] for language in sorted(totals)}


def macro_accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """The unweighted mean over gold languages of their accuracy."""
    per_language = accuracy_by_language(gold, predicted)
    return sum(per_language.values()) / len(per_language) if per_language else 0.0


@dataclass
class LidEvaluation:
    """Accuracy and speed of a language-ID step on a labelled file."""

    per_language: dict[str, float]
    supported: set[str]
    documents: int
    text_bytes: int
    seconds: float
    unsupported: list[str] = field(default_factory=list)

    @property
    def macro(self) -> float:
        """Macro accuracy over every language of the file (unsupported ones score 0)."""
        return sum(self.per_language.values()) / len(self.per_language)

    @property
    def macro_supported(self) -> float:
        """Macro accuracy over the languages the model can predict."""
        values = [v for k, v in self.per_language.items() if k in self.supported]
        return sum(values) / len(values) if values else 0.0


def held_out(row_id: str, parts: int = 3) -> bool:
    """Whether a row belongs to the held-out part (1 in ``parts``, by a hash of its id)."""
    return zlib.crc32(row_id.encode("utf-8")) % parts == 0


def evaluate_labelled_jsonl(
    path: str | Path,
    step: LanguageID | None = None,
    batch_size: int = 4096,
    per_language_limit: int | None = None,
    split: str | None = None,
) -> LidEvaluation:
    """Run ``step`` (default: raw lid.176.ftz) over a labelled JSONL file and score it.

    ``per_language_limit`` keeps the first N items of each language (a quicker check);
    ``split`` ("dev" or "held_out") keeps one part of the file (:func:`held_out`).
    The time covers the step's prediction only (reading and label mapping excluded).
    """
    step = step or LanguageID(method="fasttext")
    rows = read_labelled_jsonl(path, split)
    if per_language_limit is not None:
        seen: Counter = Counter()
        kept_rows = []
        for row in rows:
            seen[row["lang"]] += 1
            if seen[row["lang"]] <= per_language_limit:
                kept_rows.append(row)
        rows = kept_rows
    label_space, three_letter = output_languages(step)
    gold = [_gold_label(row, three_letter) for row in rows]
    texts = [row["text"] for row in rows]
    predicted, _, seconds = predict_in_batches(step, texts, batch_size)
    if three_letter:
        predicted = [lang.split("_", 1)[0] for lang in predicted]
    per_language = accuracy_by_language(gold, predicted)
    supported = {language for language in per_language if language in label_space}
    return LidEvaluation(
        per_language=per_language,
        supported=supported,
        documents=len(texts),
        text_bytes=sum(len(t.encode("utf-8")) for t in texts),
        seconds=seconds,
        unsupported=sorted(set(per_language) - supported),
    )


def read_labelled_jsonl(path: str | Path, split: str | None = None) -> list[dict]:
    """The rows of a labelled JSONL file, all or one part of them ("dev", "held_out")."""
    if split not in (None, "dev", "held_out"):
        raise ValueError(f"split must be 'dev' or 'held_out', not {split!r}")
    with open(path, encoding="utf-8") as handle:  # not splitlines(): texts may hold U+2028
        rows = [json.loads(line) for line in handle if line.strip()]
    if split is not None:
        rows = [row for row in rows if held_out(row["id"]) == (split == "held_out")]
    return rows


def output_languages(step: LanguageID) -> tuple[set[str], bool]:
    """The languages ``step`` can output, and whether they are GlotLID-style 639-3 codes."""
    if step.method == "ensemble":
        ensemble = load_ensemble(step.model, step.model_sha256, step.download)
        return set().union(*ensemble.supported.values()), False
    model = load_fasttext_model(step.model, step.model_sha256, step.download)
    labels = {label.removeprefix("__label__") for label in model.get_labels()}
    three_letter = any("_" in label for label in labels)
    return ({label.split("_", 1)[0] for label in labels} if three_letter else labels), three_letter


def predict_in_batches(
    step: LanguageID, texts: Sequence[str], batch_size: int = 4096
) -> tuple[list[str], list[float], float]:
    """Labels, scores and the seconds the step's predictions took (CPU time)."""
    langs: list[str] = []
    scores: list[float] = []
    seconds = 0.0
    for start in range(0, len(texts), batch_size):
        chunk = pa.array(texts[start : start + batch_size], type=pa.large_string())
        began = time.process_time()
        batch_langs, batch_scores = step.predict(chunk)
        seconds += time.process_time() - began
        langs.extend(batch_langs)
        scores.extend(float(score) for score in batch_scores)
    return langs, scores, seconds


def _gold_label(row: dict, three_letter: bool) -> str:
    if three_letter:
        return row["lang_iso639_3"]
    return LID176_ALIASES.get(row["lang"], row["lang"])
