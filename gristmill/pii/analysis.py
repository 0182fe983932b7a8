"""Pattern-entity findings with presidio-analyzer, fast and identical to plain presidio.

Plain presidio (``AnalyzerEngine.analyze`` on each whole document) spends almost all its
time in python-phonenumbers, which parses every digit run of the text once per region. The
:class:`PatternFinder` asks an ``AnalyzerEngine`` with the same recognizers about much less
text, in far fewer calls:

1. the pre-scan (:mod:`gristmill.pii.prescan`) skips documents without a candidate shape;
2. each group of regular-expression recognizers sees only the lines where its own shapes
   occur; the phone recognizer (:mod:`gristmill.pii.phone`, memoized, with the bounds of
   :mod:`gristmill.pii.phone_bounds`) sees only the barrier windows around candidates, and
   not even those whose every candidate is rejected in every region (verdicts memoized,
   or found while walking the window); the private-key
   recognizer (its blocks span lines) reads whole documents holding ``-----BEGIN``;
3. the pieces of a whole batch are packed, one line break apart, into calls of at most
   ``chunk_chars`` characters;
4. a line longer than that is cut into overlapping chunks; a chunk keeps the findings that
   start in the part it owns, and a finding that reaches a cut edge sends the line back to
   presidio whole. A phone window is never cut (phonenumbers' candidates would shift with
   the cut), however long.

Findings are ``(entity, start, end, score)`` in document characters. They equal
:func:`reference_findings` (presidio on each whole document), with one deliberate
exception: phonenumbers gives up after 65,535 invalid candidates in one text, which a
gigantic document can exceed while a window rarely does.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import NamedTuple

import regex
from presidio_analyzer import AnalyzerEngine

from gristmill.pii.credentials import PRIVATE_KEY_MARKER
from gristmill.pii.phone import MemoizedPhoneRecognizer
from gristmill.pii.prescan import (
    barrier_windows,
    candidate_regex,
    candidate_spans,
    chunk_bounds,
    line_pieces,
    shapes_regex,
)
from gristmill.pii.recognizers import ENTITY_SHAPES, MULTILINE_ENTITIES, pattern_engine
from gristmill.pii.written_phone import (
    MIN_WRITTEN_PHONE_CHARS,
    WRITTEN_PHONE,
    find_written_phones,
    names_another_number,
)

#: a chunk finding closer than this to a cut edge may be cut short: redo the whole line
EDGE_GUARD = 16


class Finding(NamedTuple):
    entity: str
    start: int
    end: int
    score: float


class _Piece(NamedTuple):
    doc: int
    start: int
    end: int


class PatternFinder:
    """Finds the pattern entities of many documents at once (see the module docstring)."""

    def __init__(
        self,
        entities: tuple[str, ...],
        language: str = "en",
        public_ip_only: bool = True,
        score_threshold: float | None = None,
        chunk_chars: int = 32_768,
        chunk_overlap: int = 4_096,
        written_phones: bool = True,
    ) -> None:
        self.entities = entities
        self.written_phones = written_phones and "PHONE_NUMBER" in entities
        self.language = language
        self.public_ip_only = public_ip_only
        self.score_threshold = score_threshold
        self.chunk_chars = chunk_chars
        self.chunk_overlap = chunk_overlap
        self.engine: AnalyzerEngine = pattern_engine(entities, language, public_ip_only)
        self.prescan = candidate_regex(entities)
        self.line_groups = _line_groups(
            [e for e in entities if e != "PHONE_NUMBER" and e not in MULTILINE_ENTITIES]
        )
        self.phone_entities = [e for e in entities if e == "PHONE_NUMBER"]
        self.phone = next(
            (r for r in self.engine.registry.recognizers if isinstance(r, MemoizedPhoneRecognizer)),
            None,
        )
        self.whole_entities = [e for e in entities if e in MULTILINE_ENTITIES]

    def analyze(self, text: str, entities: list[str]) -> list[Finding]:
        """presidio on one text, as findings."""
        results = self.engine.analyze(
            text,
            language=self.language,
            entities=entities,
            score_threshold=self.score_threshold,
        )
        return [Finding(r.entity_type, r.start, r.end, r.score) for r in results]

    def find(self, texts: Sequence[str], counters: Counter | None = None) -> list[list[Finding]]:
        """Sorted findings per document; ``counters`` gets the pre-scan and fallback counts."""
        counters = counters if counters is not None else Counter()
        findings: list[list[Finding]] = [[] for _ in texts]
        if self.prescan is None:
            return findings
        lines: list[list[_Piece]] = [[] for _ in self.line_groups]
        windows: list[_Piece] = []
        for doc, text in enumerate(texts):
            spans = candidate_spans(self.prescan, text)
            if not spans:
                counters["docs_prescan_skipped"] += 1
                continue
            counters["docs_prescanned"] += 1
            for start, end in line_pieces(text, spans) if self.line_groups else ():
                for group, (_, shapes) in enumerate(self.line_groups):
                    if shapes.search(text, start, end):
                        lines[group].append(_Piece(doc, start, end))
            for start, end in barrier_windows(text, spans) if self.phone_entities else ():
                if self.written_phones and end - start >= MIN_WRITTEN_PHONE_CHARS:
                    findings[doc].extend(_written_phones(text, start, end))
                if self.phone is not None and self.phone.finds_nothing(text, start, end):
                    counters["phone_windows_clear"] += 1
                else:
                    windows.append(_Piece(doc, start, end))
            if self.whole_entities and PRIVATE_KEY_MARKER in text:
                findings[doc].extend(self.analyze(text, self.whole_entities))
        work = [
            (pieces, group[0], True) for pieces, group in zip(lines, self.line_groups, strict=True)
        ]
        # a phone window is never cut: the matcher's candidates would shift (see above)
        work.append((windows, self.phone_entities, False))
        for pieces, entities, cut_long in work:
            if pieces:
                found_in = self._find_in_pieces(texts, pieces, entities, counters, cut_long)
                for doc, found in found_in.items():
                    findings[doc].extend(found)
        for doc, found in enumerate(findings):
            if self.written_phones:
                found[:] = _without_other_numbers(texts[doc], found)
            found.sort(key=lambda f: (f.start, f.end, f.entity))
        return findings

    def _find_in_pieces(
        self,
        texts: Sequence[str],
        pieces: list[_Piece],
        entities: list[str],
        counters: Counter,
        cut_long: bool,
    ) -> dict[int, list[Finding]]:
        found: dict[int, list[Finding]] = defaultdict(list)
        redo: set[int] = set()
        pack: list[_Piece] = []
        pack_chars = 0
        for piece in pieces:
            length = piece.end - piece.start
            if length > self.chunk_chars:
                if cut_long:
                    found[piece.doc].extend(
                        self._find_in_long_piece(texts, piece, entities, counters)
                    )
                else:
                    whole = self.analyze(texts[piece.doc][piece.start : piece.end], entities)
                    found[piece.doc].extend(
                        f._replace(start=f.start + piece.start, end=f.end + piece.start)
                        for f in whole
                    )
                continue
            if pack and pack_chars + length > self.chunk_chars:
                self._find_in_pack(texts, pack, entities, found, redo)
                pack, pack_chars = [], 0
            pack.append(piece)
            pack_chars += length + 1
        if pack:
            self._find_in_pack(texts, pack, entities, found, redo)
        for doc in sorted(redo):
            # a finding crossed from one piece into the next: trust only the whole document
            counters["whole_document_fallbacks"] += 1
            found[doc] = self.analyze(texts[doc], entities)
        return found

    def _find_in_pack(
        self,
        texts: Sequence[str],
        pack: list[_Piece],
        entities: list[str],
        found: dict[int, list[Finding]],
        redo: set[int],
    ) -> None:
        offsets = []
        parts = []
        position = 0
        for piece in pack:
            offsets.append(position)
            parts.append(texts[piece.doc][piece.start : piece.end])
            position += piece.end - piece.start + 1
        for finding in self.analyze("\n".join(parts), entities):
            index = bisect.bisect_right(offsets, finding.start) - 1
            piece = pack[index]
            shift = piece.start - offsets[index]
            if finding.end + shift > piece.end:
                crossed = index
                while crossed < len(pack) and offsets[crossed] < finding.end:
                    redo.add(pack[crossed].doc)
                    crossed += 1
                continue
            found[piece.doc].append(
                finding._replace(start=finding.start + shift, end=finding.end + shift)
            )

    def _find_in_long_piece(
        self, texts: Sequence[str], piece: _Piece, entities: list[str], counters: Counter
    ) -> list[Finding]:
        text = texts[piece.doc][piece.start : piece.end]
        bounds = chunk_bounds(len(text), self.chunk_chars, self.chunk_overlap)
        counters["chunks"] += len(bounds)
        kept: list[Finding] = []
        for start, end, owned_start, owned_end in bounds:
            owned = self._owned_findings(text, start, end, owned_start, owned_end, entities)
            if owned is None:
                counters["long_piece_fallbacks"] += 1
                kept = self.analyze(text, entities)
                break
            kept.extend(owned)
        return [f._replace(start=f.start + piece.start, end=f.end + piece.start) for f in kept]

    def _owned_findings(
        self,
        text: str,
        start: int,
        end: int,
        owned_start: int,
        owned_end: int,
        entities: list[str],
    ) -> list[Finding] | None:
        """The findings of one chunk that it owns; None if any finding touches a cut edge
        (it may be a longer finding cut short, or hide one)."""
        owned = []
        for finding in self.analyze(text[start:end], entities):
            if (start > 0 and finding.start < EDGE_GUARD) or (
                end < len(text) and finding.end > end - start - EDGE_GUARD
            ):
                return None
            begin = finding.start + start
            if owned_start <= begin < owned_end:
                owned.append(finding._replace(start=begin, end=finding.end + start))
        return owned


def _line_groups(entities: list[str]) -> list[tuple[list[str], regex.Pattern[str]]]:
    """Line-wise entities grouped by shared shapes, each group with its own shape regex.

    A line goes to a group's recognizers only if the group's own shapes match in it (run
    separately, so no other shape can hide them).
    """
    groups: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for entity in entities:
        groups.setdefault(ENTITY_SHAPES[entity], []).append(entity)
    return [(members, shapes_regex(shapes)) for shapes, members in groups.items()]


def _written_phones(text: str, start: int = 0, end: int | None = None) -> list[Finding]:
    return [
        Finding(WRITTEN_PHONE, phone.start, phone.end, phone.score)
        for phone in find_written_phones(text, start, end)
    ]


def _without_other_numbers(text: str, found: list[Finding]) -> list[Finding]:
    """The findings but phone numbers that are dates or labelled as other numbers."""
    return [
        f
        for f in found
        if f.entity != WRITTEN_PHONE or not names_another_number(text, f.start, f.end)
    ]


def reference_findings(finder: PatternFinder, text: str) -> list[Finding]:
    """Plain presidio: an AnalyzerEngine with the same recognizers (the stock
    PhoneRecognizer included) on the whole document, plus the written phone numbers of
    the whole document when the finder adds them, findings sorted."""
    engine = pattern_engine(
        finder.entities, finder.language, finder.public_ip_only, memoized_phone=False
    )
    results = engine.analyze(
        text,
        language=finder.language,
        entities=list(finder.entities),
        score_threshold=finder.score_threshold,
    )
    found = [Finding(r.entity_type, r.start, r.end, r.score) for r in results]
    if finder.written_phones:
        found = _without_other_numbers(text, found + _written_phones(text))
    return sorted(found, key=lambda f: (f.start, f.end, f.entity))
