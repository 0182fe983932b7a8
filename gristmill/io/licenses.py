"""Licence files of a source tree: which files they are and which licence they grant.

Licence files are recognised by name as GitHub's licensee does (``LICENSE``, ``LICENCE``,
``COPYING``, ``UNLICENSE``, ``COPYRIGHT``, with any suffix: ``LICENSE.md``,
``LICENSE-MIT``, ``COPYING.LESSER``). The licence is identified by keyword matching on
the whitespace- and comment-normalised text, in the spirit of licensee's exact/dice
matchers but with one distinctive phrase per licence: an ``SPDX-License-Identifier`` line
wins, otherwise the licence whose phrase appears *first* (a licence's title comes before
the other licences its text mentions: the GPL-3.0 text names the LGPL near its end).
BSD variants are told apart by their advertising and endorsement clauses. Unmatched text
gives ``"unknown"``.
"""

from __future__ import annotations

import posixpath
import re

from gristmill.io.code_languages import language_from_path

UNKNOWN_LICENSE = "unknown"
_DOCUMENT_LANGUAGES = frozenset(
    {"Text", "Markdown", "reStructuredText", "HTML", "AsciiDoc", "Org", "TeX", "RTF"}
)

_LICENSE_FILE = re.compile(r"(?:licen[cs]e|copying|unlicense|copyright)(?:[-._ ].*)?", re.I)
#: notices (Apache's NOTICE) are legal text that grants no licence of its own
_NOTICE_FILE = re.compile(r"notice(?:[-._ ].*)?", re.I)
_SPDX = re.compile(
    r"SPDX-License-Identifier:[ \t]*([\w.+-]+(?:[ \t]+(?:OR|AND|WITH)[ \t]+[\w.+-]+)*)"
)
_COMMENT_MARKS = re.compile(r"[*#>|=_`]+")

#: (SPDX id, phrase) in normalised text: lower case, single spaces, no comment marks
_PHRASES: tuple[tuple[str, str], ...] = (
    ("AGPL-3.0", r"gnu affero general public license,? version 3"),
    ("LGPL-3.0", r"gnu lesser general public license,? version 3"),
    ("LGPL-2.1", r"gnu lesser general public license,? version 2\.1"),
    ("LGPL-2.0", r"gnu library general public license,? version 2"),
    ("GPL-3.0", r"gnu general public license,? version 3"),
    ("GPL-2.0", r"gnu general public license,? version 2"),
    ("Apache-2.0", r"apache license,? version 2\.0"),
    ("MPL-2.0", r"mozilla public license,? (?:version |v\. ?)?2\.0"),
    ("EPL-2.0", r"eclipse public license,? (?:- )?(?:version |v ?)?2\.0"),
    ("BSL-1.0", r"boost software license,? (?:- )?version 1\.0"),
    ("Unlicense", r"free and unencumbered software released into the public domain"),
    ("CC0-1.0", r"cc0 1\.0 universal"),
    ("NCSA", r"ncsa open source license|to deal with the software without restriction"),
    ("MIT", r"permission is hereby granted, free of charge, to any person obtaining a copy"),
    (
        "ISC",
        r"permission to use, copy, modify, and(?:/or)? distribute this software for any "
        r"purpose with or without fee is hereby granted",
    ),
    ("Zlib", r"this software is provided 'as-is', without any express or implied warranty"),
    ("BSD", r"redistribution and use in source and binary forms"),
    ("PSF-2.0", r"python software foundation license"),
    ("Artistic-2.0", r"artistic license 2\.0"),
    ("WTFPL", r"do what the fuck you want to public license"),
)
_ANY_PHRASE = re.compile("|".join(f"(?P<l{i}>{phrase})" for i, (_, phrase) in enumerate(_PHRASES)))
_BSD_ADVERTISING = "all advertising materials mentioning"
_BSD_ENDORSEMENT = re.compile(r"neither the name|endorse or promote products derived")


def is_license_file(path: str) -> bool:
    """Whether a file name is a licence file's (``LICENSE``, ``COPYING.txt``, ...).

    A name with a source-code extension (``license.py``, ``copyright.h``) is code about
    licences, not a licence file.
    """
    name = posixpath.basename(path)
    if _LICENSE_FILE.fullmatch(name) is None:
        return False
    language = language_from_path(name)
    return language is None or language in _DOCUMENT_LANGUAGES


def license_document_language(path: str) -> str | None:
    """The language of a licence or notice file as a document, None for other files.

    One rule for every such name, whatever its suffix (``LICENSE``, ``LICENSE-MIT``,
    ``COPYING.LESSER``, ``NOTICE``, ``UNLICENSE.txt``): ``Text``, or the document format its
    extension names (``LICENSE.md`` is Markdown). A code extension (``license.py``) makes
    it code, not a licence file (None).
    """
    name = posixpath.basename(path)
    if _LICENSE_FILE.fullmatch(name) is None and _NOTICE_FILE.fullmatch(name) is None:
        return None
    language = language_from_path(name)
    if language is None:
        return "Text"
    return language if language in _DOCUMENT_LANGUAGES else None


def identify_license(text: str) -> str:
    """The SPDX id of the licence a licence file grants, or ``"unknown"``."""
    declared = _SPDX.search(text)
    if declared:
        return declared.group(1)
    normalised = " ".join(_COMMENT_MARKS.sub(" ", text.lower()).split())
    match = _ANY_PHRASE.search(normalised)
    if match is None or match.lastgroup is None:
        return UNKNOWN_LICENSE
    spdx = _PHRASES[int(match.lastgroup[1:])][0]
    if spdx != "BSD":
        return spdx
    if _BSD_ADVERTISING in normalised:
        return "BSD-4-Clause"
    if _BSD_ENDORSEMENT.search(normalised, match.end()):
        return "BSD-3-Clause"
    return "BSD-2-Clause"


def combine_licenses(licenses: list[str]) -> str:
    """One expression for the licence files of one folder (``MIT AND Apache-2.0``)."""
    known = sorted({name for name in licenses if name != UNKNOWN_LICENSE})
    if not known:
        return UNKNOWN_LICENSE
    return " AND ".join(known)


class LicenseIndex:
    """Licence of each folder of a tree: the nearest ancestor with a licence file wins.

    Built from ``{folder: [licence ids of its licence files]}`` (folders relative to the
    tree root, ``""`` for the root). A folder whose licence files are all unidentified
    does not hide an identified licence further up; a file under no licence file at all
    gets None.
    """

    def __init__(self, by_folder: dict[str, list[str]] | None = None) -> None:
        self._by_folder: dict[str, str] = {}
        self._resolved: dict[str, str | None] = {}
        for folder, licenses in (by_folder or {}).items():
            self.add(folder, licenses)

    def add(self, folder: str, licenses: list[str]) -> None:
        if licenses:
            self._by_folder[folder] = combine_licenses(licenses)
            self._resolved.clear()

    def license_of(self, path: str) -> str | None:
        """The licence governing the file at ``path`` (relative to the tree root)."""
        return self._folder_license(posixpath.dirname(path))

    def _folder_license(self, folder: str) -> str | None:
        if folder in self._resolved:
            return self._resolved[folder]
        own = self._by_folder.get(folder)
        if own is not None and own != UNKNOWN_LICENSE:
            result: str | None = own
        else:
            inherited = self._folder_license(posixpath.dirname(folder)) if folder else None
            result = inherited if inherited is not None else own
        self._resolved[folder] = result
        return result
