"""Stop-word lists per language, from spaCy's language data (Honnibal & Montani, spaCy 3).

Gopher's ``min_stop_words`` rule (Rae et al. 2021, Table A1) uses eight English words; for
other languages FineWeb-2 (Penedo et al. 2025) takes a stop-word list per language. spaCy
maintains such lists for about 70 languages in ``spacy/lang/<code>/stop_words.py``; they are
read here as data (the file is parsed, not imported: no spaCy pipeline is loaded and nothing
is executed). Entries without a letter (spaCy's Chinese list holds punctuation and digits)
are left out, since punctuation is a word of its own for the filters. Words are matched
after the language's segmentation (:mod:`gristmill.segmentation`), as written.
"""

from __future__ import annotations

import ast
import importlib.util
from functools import cache
from pathlib import Path


@cache
def _spacy_lang_dir() -> Path | None:
    spec = importlib.util.find_spec("spacy")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "lang"


@cache
def stop_word_languages() -> tuple[str, ...]:
    """Language codes spaCy has a stop-word list for (empty when spaCy is not installed)."""
    root = _spacy_lang_dir()
    if root is None or not root.is_dir():
        return ()
    return tuple(sorted(p.parent.name for p in root.glob("*/stop_words.py")))


def _strings(node: ast.AST) -> list[str]:
    """The words of a ``STOP_WORDS = set(\"\"\"...\"\"\".split())`` or set-literal value."""
    split = any(isinstance(n, ast.Attribute) and n.attr == "split" for n in ast.walk(node))
    words: list[str] = []
    for item in ast.walk(node):
        if isinstance(item, ast.Constant) and isinstance(item.value, str):
            words.extend(item.value.split() if split else [item.value])
    return words


@cache
def stop_words(language: str) -> frozenset[str]:
    """spaCy's stop words of ``language`` (an ISO 639-1 code such as ``zh``) that hold a
    letter. Raises ValueError naming the language and the available ones."""
    if language not in stop_word_languages():
        available = ", ".join(stop_word_languages()) or "none (spaCy is not installed)"
        raise ValueError(f"no stop-word list for language {language!r}; available: {available}")
    path = _spacy_lang_dir() / language / "stop_words.py"
    tree = ast.parse(path.read_text(encoding="utf-8"))
    words: list[str] = []
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "STOP_WORDS"
            for target in statement.targets
        ):
            words.extend(_strings(statement.value))
    return frozenset(word for word in words if any(char.isalpha() for char in word))
