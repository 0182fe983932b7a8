"""Per-language score thresholds for the ensemble language ID (FineWeb-2's idea).

FineWeb-2 (Penedo et al. 2024) keeps a document when its GlotLID score reaches a
threshold set per language from the score distribution of that language, because
languages with a close neighbour (Bosnian/Croatian/Serbian, Malay/Indonesian,
Danish/Norwegian) never reach the confidence of an isolated one: one global 0.65 removes
correctly identified text exactly in the languages that have least of it.
:func:`calibrate_thresholds` applies that rule to labelled text: per language, the
``quantile`` of the scores of its correctly identified items, never above ``ceiling``
(the step's global threshold takes over) nor below ``floor``. ``DEFAULT_THRESHOLDS``
holds its output for the ensemble (``bench/multilingual.py --thresholds`` rewrites it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np

QUANTILE = 0.1
FLOOR = 0.3
CEILING = 0.65


def calibrate_thresholds(
    gold: Sequence[str],
    predicted: Sequence[str],
    scores: Sequence[float],
    quantile: float = QUANTILE,
    floor: float = FLOOR,
    ceiling: float = CEILING,
    min_items: int = 20,
) -> dict[str, float]:
    """Language → threshold keeping all but ``quantile`` of its correctly identified items.

    Only languages whose threshold falls below ``ceiling`` are listed (the others use
    the global threshold), and only those with at least ``min_items`` correct items.
    """
    correct: dict[str, list[float]] = defaultdict(list)
    for truth, guess, score in zip(gold, predicted, scores, strict=True):
        if truth == guess:
            correct[truth].append(float(score))
    thresholds = {}
    for language, values in sorted(correct.items()):
        if len(values) < min_items:
            continue
        value = float(np.quantile(values, quantile))
        if value < ceiling:
            thresholds[language] = round(max(value, floor), 2)
    return thresholds


#: ``calibrate_thresholds`` over the ensemble's scores on the development two thirds of
#: lingua-py's Leipzig sentences (``bench/multilingual.py --thresholds`` prints it again)
DEFAULT_THRESHOLDS: dict[str, float] = {
    "bs": 0.35,
    "hr": 0.41,
    "ms": 0.48,
    "nn": 0.62,
    "no": 0.62,
    "yo": 0.44,
}
