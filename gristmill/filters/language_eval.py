"""Accuracy of the language-ID step on labelled sentences: per language and macro average.

Macro accuracy (the mean of per-language accuracies, each language weighing the same
whatever its number of sentences) is the figure language-ID papers report (e.g. Kargaran
et al. 2023, GlotLID). The labelled set is a JSONL file of ``{text, lang,
lang_iso639_3}`` rows, as in lingua-py's test data: ISO 639-1 codes are compared with
lid.176's labels (Norwegian Bokmål ``nb`` is lid.176's ``no``), ISO 639-3 codes with
GlotLID's ``xxx_Scrp`` labels. Languages the model cannot output are reported apart.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from gristmill.filters.language import LanguageID, load_fasttext_model

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


def evaluate_labelled_jsonl(
    path: str | Path,
    step: LanguageID | None = None,
    batch_size: int = 4096,
    per_language_limit: int | None = None,
) -> LidEvaluation:
    """Run ``step`` (default: lid.176.ftz) over a labelled JSONL file and score it.

    ``per_language_limit`` keeps the first N items of each language (a quicker check).
    The time covers the step's prediction only (reading and label mapping excluded).
    """
    step = step or LanguageID()
    with open(path, encoding="utf-8") as handle:  # not splitlines(): texts may hold U+2028
        rows = [json.loads(line) for line in handle if line.strip()]
    if per_language_limit is not None:
        seen: Counter = Counter()
        kept_rows = []
        for row in rows:
            seen[row["lang"]] += 1
            if seen[row["lang"]] <= per_language_limit:
                kept_rows.append(row)
        rows = kept_rows
    model = load_fasttext_model(step.model, step.model_sha256, step.download)
    labels = {label.removeprefix("__label__") for label in model.get_labels()}
    three_letter = any("_" in label for label in labels)
    label_space = {label.split("_", 1)[0] for label in labels} if three_letter else labels
    gold = [_gold_label(row, three_letter) for row in rows]
    texts = [row["text"] for row in rows]

    predicted: list[str] = []
    seconds = 0.0
    for start in range(0, len(texts), batch_size):
        chunk = pa.array(texts[start : start + batch_size], type=pa.large_string())
        began = time.perf_counter()
        langs, _ = step.predict(chunk)
        seconds += time.perf_counter() - began
        predicted.extend(lang.split("_", 1)[0] if three_letter else lang for lang in langs)
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


def _gold_label(row: dict, three_letter: bool) -> str:
    if three_letter:
        return row["lang_iso639_3"]
    return LID176_ALIASES.get(row["lang"], row["lang"])
