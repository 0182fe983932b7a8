"""HTML payloads to main text: HTML sniffing, charset resolution and main-content extraction.

The charset is resolved as the WHATWG encoding-sniffing algorithm does
(https://html.spec.whatwg.org/multipage/parsing.html#encoding-sniffing-algorithm): a byte
order mark, then the HTTP ``Content-Type`` charset, then a ``<meta charset>`` or
``<meta http-equiv="Content-Type">`` in the first 2 KiB, then detection (UTF-8 if the bytes
are valid UTF-8, else uchardet through resiliparse). Labels are mapped to WHATWG names
(``iso-8859-1`` means ``cp1252``). A declared charset that does not decode is treated as a
mislabel and the bytes are decoded with the detected one; decoding never fails (U+FFFD).

Main text comes, by default (``resiliparse_boilerplate``), from resiliparse's DOM and its
main-content pass (Bevendorff et al., "FastWARC & Resiliparse", OSSYM 2021) followed by a
boilerplate stage, :mod:`gristmill.io.boilerplate` (jusText/Boilerpipe-style block
classification); pages whose main-content pass keeps almost nothing are classified whole.
The other extractors are resiliparse's main-content heuristics alone (the former default)
and trafilatura (Barbaresi, ACL 2021), imported lazily as it is an optional extra. Measured
in ``bench/readers.py`` on two gold sets (issue 19's snippet measure, precision / F1) and
in CPU time per MB of HTML:

- ``resiliparse_boilerplate``: WARC pages (53) 0.98 / 0.95, scrapinghub articles (181)
  0.96 / 0.97, about 8-9x trafilatura's speed (0.7x resiliparse alone);
- ``resiliparse``: 0.90 / 0.92 and 0.90 / 0.94;
- ``trafilatura``: 0.91 / 0.91 and 0.97 / 0.97.

Trafilatura as the fallback for doubtful pages (``doubtful_fallback="trafilatura"``) was
measured and is not the default: it lowers precision on the WARC pages (0.98 to 0.93) for no gain on
the articles. Every pass drops image alt texts, comment sections and post metadata
(bylines, dates), which resiliparse's own heuristics find by class and id names.
HTML sniffing follows the WHATWG MIME sniffing standard §7.1 (the tags that identify HTML).
"""

from __future__ import annotations

import codecs
import functools
import re
from dataclasses import dataclass
from typing import Literal

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import detect_encoding, map_encoding_to_html5
from resiliparse.parse.html import HTMLTree

from gristmill.io.boilerplate import boilerplate_line, classify, join_blocks, parse_blocks

Extractor = Literal["resiliparse_boilerplate", "resiliparse", "trafilatura"]
BOILERPLATE_EXTRACTOR = "resiliparse_boilerplate"
DEFAULT_EXTRACTOR = BOILERPLATE_EXTRACTOR
EXTRACTORS: tuple[str, ...] = (BOILERPLATE_EXTRACTOR, "resiliparse", "trafilatura")

#: a main-content pass keeping less than this share of the page's text, and fewer than
#: DOUBTFUL_CHARS characters, marks the page doubtful (short articles on large pages are not)
DOUBTFUL_SHARE = 0.1
DOUBTFUL_CHARS = 250
#: resiliparse options of every pass: no image alt texts, comment sections or post metadata
_RESILIPARSE_OPTIONS = {"alt_texts": False, "comments": False, "post_meta": False}
#: the block-structured output the boilerplate classifier reads (links marked)
_MINIMAL = {
    "preserve_formatting": "minimal_html", "links": True, "list_bullets": True,
    **_RESILIPARSE_OPTIONS,
}  # fmt: skip

#: media types whose payload is HTML
HTML_MEDIA_TYPES = frozenset(
    {"text/html", "application/xhtml+xml", "application/vnd.wap.xhtml+xml"}
)
#: media types that say nothing about the payload: it is sniffed
UNKNOWN_MEDIA_TYPES = frozenset(
    {"", "application/octet-stream", "binary/octet-stream", "application/unknown",
     "unknown/unknown", "*/*", "application/x-unknown-content-type"}
)  # fmt: skip

#: how far into a document a ``<meta charset>`` is looked for (WHATWG prescans 1024 bytes;
#: real pages put long ``<head>`` preambles before it, so a little more is read)
META_SCAN_BYTES = 2048
#: how much of a payload HTML sniffing looks at
SNIFF_BYTES = 1024
#: bytes given to uchardet (half from each end), enough for a confident guess
DETECT_BYTES = 32 * 1024

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))  # fmt: skip
_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?\s*([^\s"';,]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(
    rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.IGNORECASE
)
_HTML_START = re.compile(
    rb"\s*(?:<!doctype\s+html|<html|<head|<script|<iframe|<h1|<div|<font|<table|<a|"
    rb"<style|<title|<b|<body|<br|<p|<!--)[\s>]",
    re.IGNORECASE,
)
_XML_HTML = re.compile(rb"<html[\s>]", re.IGNORECASE)


def media_type(content_type: str | None) -> str:
    """``text/html`` from ``text/html; charset=UTF-8`` (lower case, no parameters)."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def looks_like_html(payload: bytes) -> bool:
    """WHATWG MIME sniffing for HTML: the payload starts with one of the HTML tags
    (after white space or a byte order mark), or is XML with an ``<html>`` element."""
    head = payload[:SNIFF_BYTES]
    for bom, _ in _BOMS:
        if head.startswith(bom):
            head = head[len(bom) :]
            break
    if _HTML_START.match(head):
        return True
    return head.lstrip().startswith(b"<?xml") and _XML_HTML.search(head) is not None


@functools.lru_cache(maxsize=1024)
def canonical_charset(label: str | None) -> str | None:
    """The WHATWG name of an encoding label (a valid Python codec), or None if unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if not label:
        return None
    return map_encoding_to_html5(label, fallback_utf8=False)


def charset_from_content_type(content_type: str | None) -> str | None:
    """The charset parameter of an HTTP ``Content-Type`` header, canonicalised."""
    if not content_type:
        return None
    match = _CHARSET_PARAM.search(content_type)
    return canonical_charset(match.group(1)) if match else None


def charset_from_meta(payload: bytes) -> str | None:
    """The charset declared by a ``<meta>`` tag in the first :data:`META_SCAN_BYTES`."""
    match = _META_CHARSET.search(payload, 0, META_SCAN_BYTES)
    if match is None:
        return None
    charset = canonical_charset(match.group(1).decode("ascii", "replace"))
    # a document that could be read to find its meta tag is ASCII-compatible: a meta
    # claiming UTF-16 is wrong (WHATWG: treat it as UTF-8)
    if charset is not None and charset.startswith("utf-16"):
        return "utf-8"
    return charset


def detect_charset(payload: bytes, utf8_invalid: bool = False) -> str:
    """UTF-8 when the bytes are valid UTF-8 (or ASCII), else uchardet's guess (WHATWG name).

    ``utf8_invalid``: the caller has already found that the bytes are not UTF-8, so they
    are not decoded again."""
    if not utf8_invalid:
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return "utf-8"
    return detect_encoding(payload, max_len=DETECT_BYTES) or "cp1252"


def decode_html(
    payload: bytes, http_charset: str | None = None, utf8_invalid: bool = False
) -> tuple[str, str]:
    """Decode an HTML payload; returns ``(text, charset used)``. Never raises.

    ``http_charset`` is the (already canonical) charset of the HTTP header, if any;
    ``utf8_invalid`` says the caller found that the payload does not decode as UTF-8 (it
    is then not decoded as UTF-8 again, strictly).
    """
    for bom, name in _BOMS:
        if payload.startswith(bom):
            return payload[len(bom) :].decode(name, errors="replace"), name
    declared = http_charset or charset_from_meta(payload)
    if declared is not None:
        try:
            if not (utf8_invalid and declared == "utf-8"):
                return payload.decode(declared), declared
        except UnicodeDecodeError:
            pass
        except LookupError:  # pragma: no cover - canonical names are Python codecs
            declared = None
    if declared is not None:  # a mislabel: the detected charset, if it decodes
        detected = detect_charset(payload, utf8_invalid)
        if detected != declared and not (utf8_invalid and detected == "utf-8"):
            try:
                return payload.decode(detected), detected
            except UnicodeDecodeError:
                pass
        return payload.decode(declared, errors="replace"), declared
    detected = detect_charset(payload, utf8_invalid)
    try:
        return payload.decode(detected, errors="replace"), detected
    except LookupError:  # pragma: no cover - uchardet names are mapped to Python codecs
        return payload.decode("utf-8", errors="replace"), "utf-8"


def resiliparse_text(html: str | HTMLTree) -> str:
    """Main text by resiliparse's own main-content heuristics (settings: module docstring;
    list items without bullets scored a little better on the articles)."""
    return extract_plain_text(html, main_content=True, list_bullets=False, **_RESILIPARSE_OPTIONS)


def trafilatura_text(html: str) -> str:
    """Main text by trafilatura (comments excluded: they are not the page's main text)."""
    try:
        import trafilatura
    except ImportError as error:  # pragma: no cover - depends on the installed extras
        raise ImportError(
            "reader option extractor: trafilatura needs the optional dependency "
            f"(install gristmill[trafilatura]): {error}"
        ) from error
    return trafilatura.extract(html, include_comments=False) or ""


@dataclass(frozen=True, slots=True)
class Extraction:
    """The main text of a page, what produced it, and what later filters may want to know.

    ``page_chars`` is the length of all the page's visible text (resiliparse without
    main-content heuristics; ``None`` where the reader was told not to measure it),
    ``link_chars`` the part of ``text`` that was link text (known
    only for the boilerplate extractor), ``doubtful`` whether the main-content pass kept so
    little of the page that the whole page was classified instead.
    """

    text: str
    extractor: str
    page_chars: int | None
    link_chars: int | None = None
    doubtful: bool = False

    def signals(self) -> dict[str, float | bool | int]:
        """The reader's ``extract_*`` meta fields (see :mod:`gristmill.io.warc`)."""
        chars = len(self.text)
        signals: dict[str, float | bool | int] = {}
        if self.page_chars is not None:
            signals["extract_page_chars"] = self.page_chars
            signals["extract_text_share"] = (
                round(min(1.0, chars / self.page_chars), 4) if self.page_chars else 0.0
            )
        if self.link_chars is not None:
            signals["extract_link_density"] = round(self.link_chars / chars, 4) if chars else 0.0
        if self.link_chars is not None or self.doubtful:
            signals["extract_doubtful"] = self.doubtful
        return signals


DoubtfulFallback = Literal["page", "trafilatura"]


def _page_chars(tree: HTMLTree) -> int:
    """Characters of all the page's visible text (resiliparse collapses white space)."""
    return len(extract_plain_text(tree, main_content=False, **_RESILIPARSE_OPTIONS).strip())


def boilerplate_extraction(html: str, doubtful_fallback: str = "page") -> Extraction:
    """Main text by resiliparse's DOM and main-content pass, then block classification.

    The page is parsed once. Resiliparse's main-content pass (which drops elements whose
    class and id name navigation, footers, sidebars, comments) gives blocks that
    :mod:`gristmill.io.boilerplate` classifies. When that keeps less than
    :data:`DOUBTFUL_SHARE` of the page's text, the page is *doubtful* (the main-content
    pass often drops whole pages of lists and link-titled items): then the blocks of the
    whole page are classified instead (``doubtful_fallback="page"``, the default) or
    trafilatura extracts it (``"trafilatura"``; measured in ``bench/readers.py``). A page
    where no block reads as content even then is a hub or list page (titles that are all
    links): its main-content blocks are kept, less the boilerplate lines, and it is marked
    doubtful too.
    """
    tree = HTMLTree.parse(html)
    page_chars = _page_chars(tree)
    main = classify(parse_blocks(extract_plain_text(tree, main_content=True, **_MINIMAL)))
    kept = [block for block in main if block.label == "good"]
    kept_chars = sum(len(block.text) for block in kept)
    doubtful = kept_chars < DOUBTFUL_CHARS and kept_chars < DOUBTFUL_SHARE * page_chars
    if doubtful and doubtful_fallback == "trafilatura":
        return Extraction(trafilatura_text(html).strip(), "trafilatura", page_chars, None, True)
    if doubtful:
        whole = classify(parse_blocks(extract_plain_text(tree, main_content=False, **_MINIMAL)))
        kept = [block for block in whole if block.label == "good"]
    if not kept:
        # a hub or list page: no block reads as content, not even on the whole page; the
        # main-content pass's blocks are its text, less the boilerplate lines
        kept = [block for block in main if not boilerplate_line(block.text)]
        doubtful = True
    link_chars = sum(block.link_chars for block in kept)
    return Extraction(join_blocks(kept), BOILERPLATE_EXTRACTOR, page_chars, link_chars, doubtful)


def extract(
    html: str,
    extractor: str = DEFAULT_EXTRACTOR,
    doubtful_fallback: str = "page",
    page_signals: bool = True,
) -> Extraction:
    """The main text of an HTML document (stripped; ``""`` when there is none) and signals.

    ``page_signals=False`` leaves out the whole page's visible text where only a signal
    needs it: for ``resiliparse`` and ``trafilatura`` it is a second extraction pass over
    the page (about a third of the reader's CPU on CommonCrawl-like pages). The boilerplate
    extractor always measures it: its doubtful-page decision uses it."""
    if extractor == BOILERPLATE_EXTRACTOR:
        return boilerplate_extraction(html, doubtful_fallback)
    if extractor == "resiliparse":
        tree = HTMLTree.parse(html)
        page_chars = _page_chars(tree) if page_signals else None
        return Extraction(resiliparse_text(tree).strip(), extractor, page_chars)
    if extractor == "trafilatura":
        page_chars = _page_chars(HTMLTree.parse(html)) if page_signals else None
        return Extraction(trafilatura_text(html).strip(), extractor, page_chars)
    raise ValueError(f"unknown extractor {extractor!r}; allowed: {', '.join(EXTRACTORS)}")


def extract_text(html: str, extractor: str = DEFAULT_EXTRACTOR) -> str:
    """The main text of an HTML document, stripped; ``""`` when there is none."""
    return extract(html, extractor).text
