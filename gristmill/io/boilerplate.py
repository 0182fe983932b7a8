"""Boilerplate removal: text blocks of a page classified as content or boilerplate.

The page is first reduced by resiliparse to block-structured minimal HTML (headings,
paragraphs, list items, ``<pre>``, links kept; Bevendorff et al., "FastWARC & Resiliparse",
OSSYM 2021), so the DOM work stays in C. Each line of that output is a *block*; a block is
kept or dropped by the shallow text features that Kohlschütter et al. found to separate
content from boilerplate ("Boilerplate Detection using Shallow Text Features", WSDM 2010,
the Boilerpipe paper: number of words, link density, position) and the context rules of
jusText (Pomikálek, "Removing Boilerplate and Duplicate Content from Web Corpora", PhD
thesis, Masaryk University 2011, chapter 3):

1. *Context-free class* per block: ``bad`` when much of its text is link text (prose may
   link more of its words than a menu line) or it is a known boilerplate line (copyright,
   "all rights reserved" in five languages, cookie notices, "powered by", "skip to
   content", bylines and dates), ``good`` when it is prose or long, ``near_good`` when it
   is a short sentence or a line of prose length without sentence punctuation (a dek, a
   caption), ``short`` otherwise.
2. *Context* (jusText's revision): a ``near_good`` block is content unless boilerplate
   surrounds it; a ``short`` block is content between content blocks (or next to a
   ``near_good`` one on the boilerplate side); the page's edges count as boilerplate.
   Headings followed closely by content are kept (jusText's heading rule).
3. A comment-section heading ("12 comments", "Leave a reply", "Kommentare") after content
   ends the content: the comment sections resiliparse's class and id heuristics missed.

jusText's stop-word density is replaced by language-independent cues (sentence punctuation
and length, a character of Han, kana or Hangul counting three times), so the classifier
needs no word lists. The thresholds were chosen on two gold sets
(``bench/readers.py``: the scrapinghub article benchmark and hand-labelled snippets of the
WARC pages of ``../shared/data``), not on either alone.
"""

from __future__ import annotations

import html as html_entities
import re
from dataclasses import dataclass
from typing import Literal

from gristmill.scripts import NON_SPACED_RANGES

BlockClass = Literal["good", "bad", "near_good", "short"]

#: a block whose link text is more than this share of its text is boilerplate...
MAX_LINK_DENSITY = 0.4
#: ... unless it is prose (sentences of at least PROSE_CHARS characters): encyclopedias
#: and homepages link many words of their paragraphs
MAX_PROSE_LINK_DENSITY = 0.75
PROSE_CHARS = 80
#: blocks at least this long are content whatever their punctuation
GOOD_CHARS = 200
#: sentences shorter than this are ``short``: their neighbours decide
SHORT_CHARS = 25
#: a comment-section heading is at most this long
COMMENT_HEADING_CHARS = 40
#: a character of a script written without spaces counts this many times (text_length)
WIDE_WEIGHT = 3
#: copyright, cookie and "skip to content" lines are boilerplate up to this length
BOILERPLATE_PATTERN_CHARS = 200
#: a heading is kept when a good block starts within this many characters after it
HEADING_DISTANCE = 300

#: resiliparse's minimal HTML: block tags without attributes, links as <a href="...">
_BLOCK_OPEN = re.compile(r"\s*<(p|h[1-6]|pre)>")
_ANY_TAG = re.compile(r"<[^>]*>")
#: link text; an anchor without a target (``<a name>``, written ``<a href="">`` and left
#: unclosed by resiliparse) is no link
_LINK_TEXT = re.compile(r'<a href="[^"]+">(.*?)</a>', re.DOTALL)
_SENTENCE_END = frozenset(".!?;:。！？…”\"')]")
_SENTENCE_PUNCT = re.compile(r"[.!?;:,。！？、，；：]")
_FOOTER = re.compile(
    r"©|\bcopyright\b|all rights reserved|alle rechte vorbehalten|tous droits réservés"
    r"|todos los derechos reservados|tutti i diritti riservati|powered by\b"
    r"|skip to (?:main )?content|\bjump to\b.*\bnavigation\b|bloggers? like"
    r"|\b(?:we use|uses|using|verwendet|utilise|utilisons|utiliza|utilizza)(?: \w+)? cookies\b"
    r"|^(?:sign up|subscribe)\b"
)
#: the heading of a comment section: it and everything after it are boilerplate
_COMMENTS = re.compile(
    r"^(?:\d+ )?(?:comments?|responses?|replies|reader comments|kommentare?|commentaires?"
    r"|comentarios?|commenti)\b|^(?:leave|post|add|write) a (?:comment|reply)\b"
    r"|^(?:one|two|three) (?:comments?|responses?|thoughts?)\b"
)
#: post metadata lines (bylines, dates) are boilerplate up to BYLINE_CHARS
_BYLINE = re.compile(r"^(?:(?:first )?published|updated|posted|last (?:updated|modified)|by)\b")
BYLINE_CHARS = 60
_LINE_SPACE = re.compile(r"[^\S\n]+")
#: characters that carry a word or most of one: Han, kana and Bopomofo among the scripts
#: written without spaces (:mod:`gristmill.scripts`; Thai, Lao, Khmer and Myanmar are
#: alphabets, their words as long as Latin ones) and Hangul syllables (a few letters each)
_DENSE_SCRIPTS = frozenset({"Han", "Hiragana", "Katakana", "Bopomofo"})
_WIDE = re.compile(
    "["
    + "".join(
        f"{chr(start)}-{chr(end)}"
        for start, end, script in NON_SPACED_RANGES
        if script in _DENSE_SCRIPTS
    )
    + "\u1100-\u11ff\uac00-\ud7af]"
)
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
#: blocks whose line breaks stay inside them (resiliparse writes ``<br>`` as a line break)
_MULTILINE = _HEADINGS | {"p", "pre"}


@dataclass(slots=True)
class Block:
    """One line of the page's minimal HTML: its text and what the classifier measures."""

    text: str
    kind: str  # "p", "h1".."h6", "li", "pre", "text"
    link_chars: int = 0
    position: int = 0
    label: BlockClass = "short"

    @property
    def link_density(self) -> float:
        return self.link_chars / len(self.text) if self.text else 0.0

    @property
    def is_heading(self) -> bool:
        return self.kind in _HEADINGS


def parse_blocks(minimal_html: str) -> list[Block]:
    """The blocks of resiliparse's ``minimal_html`` output, with their link characters.

    Resiliparse writes one block per line: ``<p>``, ``<hN>`` and ``<pre>`` blocks may span
    lines (``<br>`` is a line break inside them), a list item or a line of an ``<div>``
    is a block of its own. Work is done per block with compiled regular expressions.
    """
    blocks: list[Block] = []
    lines = minimal_html.split("\n")
    index, count = 0, len(lines)
    while index < count:
        line = lines[index]
        index += 1
        opening = _BLOCK_OPEN.match(line)
        kind = opening.group(1) if opening else ("li" if "<li>" in line else "text")
        if opening and kind in _MULTILINE and f"</{kind}>" not in line:
            closing = f"</{kind}>"
            parts = [line]
            while index < count:
                parts.append(lines[index])
                index += 1
                if closing in parts[-1]:
                    break
            line = "\n".join(parts)
        if "<" in line:
            link_chars = sum(len(_clean(link)) for link in _LINK_TEXT.findall(line))
            text = _clean(_ANY_TAG.sub("", line))
        else:
            link_chars = 0
            text = _clean(line)
        if text:
            blocks.append(Block(text, kind, min(link_chars, len(text)), len(blocks)))
    return blocks


def _clean(raw: str) -> str:
    """Entities decoded, runs of spaces collapsed, lines stripped, empty lines dropped."""
    if "&" in raw:
        raw = html_entities.unescape(raw)
    if "\n" not in raw:
        return _LINE_SPACE.sub(" ", raw).strip() if "  " in raw or "\t" in raw else raw.strip()
    lines = (_LINE_SPACE.sub(" ", line).strip() for line in raw.split("\n"))
    return "\n".join(line for line in lines if line)


def _sentence_like(text: str) -> bool:
    """Ends like a sentence, or holds two punctuation marks in its first characters."""
    return text[-1] in _SENTENCE_END or len(_SENTENCE_PUNCT.findall(text, 0, 400)) >= 2


def classify(blocks: list[Block]) -> list[Block]:
    """Label every block ``good`` or ``bad`` (jusText's two passes); returns the blocks."""
    for block in blocks:
        block.label = _context_free(block)
    _revise_short(blocks)
    _keep_headings(blocks)
    _cut_comment_section(blocks)
    return blocks


def _cut_comment_section(blocks: list[Block]) -> None:
    """Everything from a comment-section heading on is boilerplate, once content came
    before it (comment sections that resiliparse's class and id heuristics missed)."""
    content_seen = 0
    for index, block in enumerate(blocks):
        if block.label == "good":
            content_seen += len(block.text)
        if (
            content_seen >= GOOD_CHARS
            and len(block.text) <= COMMENT_HEADING_CHARS
            and _COMMENTS.match(block.text.lower())
        ):
            for following in blocks[index:]:
                following.label = "bad"
            return


def join_blocks(blocks: list[Block]) -> str:
    """The text of the blocks: list items one per line, other blocks as paragraphs."""
    parts: list[str] = []
    previous: Block | None = None
    for block in blocks:
        if previous is not None:
            parts.append("\n" if previous.kind == block.kind == "li" else "\n\n")
        parts.append(block.text)
        previous = block
    return "".join(parts)


def text_length(text: str) -> int:
    """Characters, a Han, kana or Hangul one counting :data:`WIDE_WEIGHT` times: a word of
    those scripts takes one to three characters, not five or six."""
    if text.isascii():
        return len(text)
    return len(text) + (WIDE_WEIGHT - 1) * len(_WIDE.findall(text))


def boilerplate_line(text: str, chars: int | None = None) -> bool:
    """A copyright, cookie-notice, sign-up, skip-link or byline line (a short block)."""
    chars = text_length(text) if chars is None else chars
    if chars >= BOILERPLATE_PATTERN_CHARS:
        return False
    lower = text.lower()
    return bool(_FOOTER.search(lower) or (chars < BYLINE_CHARS and _BYLINE.match(lower)))


def _context_free(block: Block) -> BlockClass:
    text = block.text
    chars = text_length(text)
    sentence = _sentence_like(text)
    prose = sentence and chars >= PROSE_CHARS
    if block.link_density > (MAX_PROSE_LINK_DENSITY if prose else MAX_LINK_DENSITY):
        return "bad"
    if boilerplate_line(text, chars):
        return "bad"
    if prose or chars >= GOOD_CHARS:
        return "good"
    if (sentence and chars >= SHORT_CHARS) or chars >= PROSE_CHARS:
        return "near_good"
    return "short"


def _nearest(labels: list[BlockClass], decided: frozenset[str]) -> tuple[list[str], list[str]]:
    """For each block, the nearest label in ``decided`` before it and after it (the edges
    of a page count as ``bad``, as in jusText)."""
    before: list[str] = []
    last = "bad"
    for label in labels:
        before.append(last)
        if label in decided:
            last = label
    after: list[str] = [""] * len(labels)
    last = "bad"
    for index in range(len(labels) - 1, -1, -1):
        after[index] = last
        if labels[index] in decided:
            last = labels[index]
    return before, after


_GOOD_OR_BAD = frozenset({"good", "bad"})
_DECIDED_OR_NEAR = frozenset({"good", "bad", "near_good"})


def _revise_short(blocks: list[Block]) -> None:
    """jusText's context pass. A short block is content between content blocks, and
    between content and boilerplate when a near-good block stands on the boilerplate side
    next to it; a near-good block is content unless boilerplate surrounds it."""
    labels = [block.label for block in blocks]
    before, after = _nearest(labels, _GOOD_OR_BAD)
    near_before, near_after = _nearest(labels, _DECIDED_OR_NEAR)
    for index, block in enumerate(blocks):
        if block.label == "near_good":
            block.label = "bad" if before[index] == after[index] == "bad" else "good"
        elif block.label == "short":
            sides = (before[index], after[index])
            if sides == ("good", "good"):
                block.label = "good"
            elif sides == ("bad", "bad"):
                block.label = "bad"
            elif (before[index] == "bad" and near_before[index] == "near_good") or (
                after[index] == "bad" and near_after[index] == "near_good"
            ):
                block.label = "good"
            else:
                block.label = "bad"


def _keep_headings(blocks: list[Block]) -> None:
    for index, block in enumerate(blocks):
        if not block.is_heading or block.label == "good":
            continue
        distance = 0
        for following in blocks[index + 1 :]:
            if following.label == "good":
                block.label = "good"
                break
            distance += len(following.text)
            if distance > HEADING_DISTANCE:
                break
