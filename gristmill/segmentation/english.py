"""English word splitting that reproduces spaCy's rule-based tokenizer, fast.

datatrove's Gopher, FineWeb and C4 filters count words with spaCy's blank English pipeline
(Honnibal & Montani, spaCy 3, "Tokenizer: how it works"): the text is split on whitespace,
then each chunk has its prefixes (opening brackets, quotes, currency, ...) and suffixes
(closing punctuation, ``'s``, units after numbers, a final period) peeled off, special
cases (contractions such as ``don't`` → ``do n't``, abbreviations such as ``Mr.``) are
expanded, infixes (hyphens and slashes between letters, ellipses) split what is left, URLs
stay whole, and finally adjacent pieces that spell a special case are merged back
(``Mr`` ``.`` → ``Mr.``). Punctuation therefore becomes separate words, which matters for
the Gopher ratios. This module follows the same algorithm with its own compact rule tables,
so that gristmill's decisions agree with datatrove's without spaCy, many times faster: a
chunk of letters or digits only (most of them) costs one dict lookup, and only chunks with
punctuation go through the affix loop. Text in scripts written without spaces is
segmented first by :mod:`gristmill.segmentation`; this module sees the rest.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from gristmill.segmentation.english_special_cases import listed, special_cases

# --- character classes (the scripts spaCy's English rules know about) -----------------

#: quote characters and East Asian brackets
QUOTES = "'\"”“`‘´’‚,„»«「」『』（）〔〕【】《》〈〉⟦⟧"
_LATIN_BLOCKS = (
    (0x41, 0x5A), (0x61, 0x7A), (0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x24F), (0x250, 0x2AF),
    (0x1D00, 0x1D25), (0x1D6B, 0x1D77), (0x1D79, 0x1D9A), (0x1E00, 0x1EFF), (0x2C60, 0x2C7F),
    (0xA722, 0xA7FF), (0xAB30, 0xAB64), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A),
)  # fmt: skip
_OTHER_LOWER = "ёа-яәөүҗңһα-ωάέίόώήύіїєґѓѕјљњќѐѝ"
_OTHER_UPPER = "ЁА-ЯӘӨҮҖҢҺΑ-ΩΆΈΊΌΏΉΎІЇЄҐЃЅЈЉЊЌЀЍ"
#: scripts without case (Ethiopic, Indic, Hebrew, Arabic, Hangul, kana, CJK), which count
#: as both lower and upper case
_UNCASED = (
    "\u1200-\u137f\u0980-\u09ff\u0591-\u05f4\ufb1d-\ufb4f\u0620-\u064a\u066e-\u06d5"
    "\u06e5-\u06ff\u0750-\u077f\u08a0-\u08bd\ufb50-\ufbb1\ufbd3-\ufd3d\ufd50-\ufdc7"
    "\ufdf0-\ufdfb\ufe70-\ufefc\U0001ee00-\U0001eebb\u0d80-\u0dff\u0900-\u097f\u0c80-\u0cff"
    "\u0b80-\u0bff\u0c00-\u0c7f\uac00-\ud7af\u1100-\u11ff\u3040-\u30ffー\u4e00-\u9fff"
    "\u3400-\u4dbf\U00020000-\U0002ebef\u2e80-\u2fff\u3000-\u303f\u31c0-\u31ef\u3200-\u33ff"
    "\uf900-\ufaff\ufe30-\ufe4f\U0001f200-\U0001f2ff\U0002f800-\U0002fa1f"
)
#: single characters split off the start of a chunk (besides symbols and currency)
_PREFIX_CHARS = "§%=—–…,:;!?¿؟¡()[]{}<>_#*&。？！，、；：～·।،۔؛٪" + QUOTES
#: single characters split off the end of a chunk (besides symbols)
_SUFFIX_CHARS = "…,:;!?¿؟¡()[]{}<>_#*&。？！，、；：～·।،۔؛٪—–" + QUOTES
_CURRENCY = "$£€¥฿₽﷼₴₠₡₢₣₤₥₦₧₨₩₪₫₭₮₯₰₱₲₳₵₶₷₸₹₺₻₼₾₿"
_MULTI_CURRENCY = ("US$", "C$", "A$")


#: units split off a number's end (``10km`` → ``10 km``), longest first
_UNITS = tuple(
    sorted(
        listed(
            "km km² km³ m m² m³ dm dm² dm³ cm cm² cm³ mm mm² mm³ ha µm nm yd in ft kg g mg µg "
            "t lb oz m/s km/h kmh mph hPa Pa mbar mb MB kb KB gb GB tb TB T G M K %"
        ),
        key=len,
        reverse=True,
    )
)
#: characters after which a final period is split off (besides lower case, digits, symbols)
_PERIOD_AFTER = frozenset("%²-+…!\"#&'()*,:;<>?[]_`{|}¡¿·" + QUOTES)
_DIGITS = frozenset("0123456789")


def _char_class(codes: list[int]) -> str:
    """A regex character class body for the given code points, as ranges."""
    codes = sorted(set(codes))
    parts: list[str] = []
    index = 0
    while index < len(codes):
        end = index
        while end + 1 < len(codes) and codes[end + 1] == codes[end] + 1:
            end += 1
        first, last = chr(codes[index]), chr(codes[end])
        parts.append(re.escape(first) if first == last else f"{re.escape(first)}-{re.escape(last)}")
        index = end + 1
    return "".join(parts)


class _Rules:
    """The compiled character classes and regexes, built once per process."""

    def __init__(self) -> None:
        latin = [c for lo, hi in _LATIN_BLOCKS for c in range(lo, hi + 1) if chr(c).isalpha()]
        latin_lower = [c for c in latin if not chr(c).isupper()]
        latin_upper = [c for c in latin if chr(c).isupper()]
        symbols = [c for c in range(0xA0, 0x1FC00) if unicodedata.category(chr(c)) == "So"]
        self.symbols = frozenset(map(chr, symbols))
        lower = _char_class(latin_lower) + _OTHER_LOWER + _UNCASED
        upper = _char_class(latin_upper) + _OTHER_UPPER + _UNCASED
        alpha = lower + upper
        symbol_class = _char_class(symbols)
        quotes = re.escape(QUOTES)
        self.is_lower = re.compile(f"[{lower}]").match
        self.is_upper = re.compile(f"[{upper}]").match
        self.prefix_chars = frozenset(_PREFIX_CHARS + _CURRENCY) | self.symbols
        after_number = "|".join(map(re.escape, (*_UNITS, *_MULTI_CURRENCY, *_CURRENCY, "+")))
        self.after_number = re.compile(rf"[0-9](?:{after_number})\Z").search
        self.suffix_chars = frozenset(_SUFFIX_CHARS) | self.symbols
        self.infix = re.compile(
            rf"\.\.+|…|[{symbol_class}]"
            r"|(?<=[0-9])[+\-*^](?=[0-9-])"
            rf"|(?<=[{lower}{quotes}])\.(?=[{upper}{quotes}])"
            rf"|(?<=[{alpha}]),(?=[{alpha}])"
            rf"|(?<=[{alpha}0-9])(?:-|–|—|--|---|——|~)(?=[{alpha}])"
            rf"|(?<=[{alpha}0-9])[:<>=/](?=[{alpha}])"
        )
        host = "[A-Za-z0-9\u00a1-\uffff]"
        self.url = re.compile(
            r"(?:[\w+.\-]{2,}://)?"  # scheme
            r"(?:[^\s@]+(?::[^\s@]*)?@)?"  # user:password@
            rf"(?:(?:{host}[A-Za-z0-9\u00a1-\uffff_-]{{0,62}})?{host}\.)+"  # host names
            rf"[{lower}]{{2,63}}"  # top-level domain
            r"(?::\d{2,5})?(?:[/?#]\S*)?"  # port, path
        ).fullmatch
        self.specials = special_cases()
        self.merges = self._merge_patterns()

    def _merge_patterns(self) -> dict[str, list[tuple[tuple[str, ...], str]]]:
        """Special cases that the affix rules would split, keyed by their first piece."""
        patterns: dict[str, list[tuple[tuple[str, ...], str]]] = {}
        for text in self.specials:
            pieces: list[str] = []
            _split_chunk(text, pieces, self, with_specials=False)
            if len(pieces) > 1:
                patterns.setdefault(pieces[0], []).append((tuple(pieces), text))
        return patterns


@cache
def _rules() -> _Rules:
    return _Rules()


# --- the affix loop -----------------------------------------------------------------------


def _prefix_length(chunk: str, rules: _Rules) -> int:
    first = chunk[0]
    if first == "." and chunk[1:2] == ".":
        return len(chunk) - len(chunk.lstrip("."))
    if first == "+":
        return 0 if chunk[1:2] in _DIGITS else 1
    if first in "UCA" and chunk.startswith(_MULTI_CURRENCY):
        return 3 if first == "U" else 2
    return 1 if first in rules.prefix_chars else 0


def _period_splits(chunk: str, rules: _Rules) -> bool:
    """Whether the final period of ``chunk`` is a suffix (``word.`` yes, ``U.S.`` no)."""
    if len(chunk) < 2:
        return False
    before = chunk[-2]
    if before in _DIGITS or before in _PERIOD_AFTER or before in rules.symbols:
        return True
    if rules.is_lower(before):
        return True
    if len(chunk) >= 3 and chunk[-3] == "°" and before in "FfCcKk":
        return True
    return len(chunk) >= 3 and bool(rules.is_upper(before)) and bool(rules.is_upper(chunk[-3]))


def _suffix_length(chunk: str, rules: _Rules) -> int:
    """Length of the suffix that starts leftmost among those that end the chunk."""
    size = len(chunk)
    last = chunk[-1]
    if last == "." and size >= 2 and chunk[-2] == ".":
        return size - len(chunk.rstrip("."))
    if size >= 2 and chunk[-2] in "'’" and last in "sS":
        return 2
    if chunk.endswith("……"):
        return 2
    # units, currency and '+' after a number (10km, 5%, 5US$, 50+)
    if last not in rules.suffix_chars:
        after_number = rules.after_number(chunk)
        if after_number is not None:
            return after_number.end() - after_number.start() - 1
    if last == ".":
        return 1 if _period_splits(chunk, rules) else 0
    return 1 if last in rules.suffix_chars else 0


def _infixes(text: str, rules: _Rules, out: list[str]) -> None:
    if rules.infix.search(text) is None:
        out.append(text)
        return
    start = 0
    for match in rules.infix.finditer(text):
        begin, end = match.span()
        if begin == 0:
            continue
        if begin != start:
            out.append(text[start:begin])
        out.append(text[begin:end])
        start = end
    if start < len(text):
        out.append(text[start:])


def _split_chunk(chunk: str, out: list[str], rules: _Rules, with_specials: bool = True) -> None:
    """Tokenize one whitespace-free chunk the way spaCy's ``Tokenizer`` does."""
    specials = rules.specials if with_specials else {}
    prefixes: list[str] = []
    suffixes: list[str] = []
    while chunk and chunk not in specials:
        before = len(chunk)
        pre = _prefix_length(chunk, rules)
        if pre and chunk[pre:] in specials:
            prefixes.append(chunk[:pre])
            chunk = chunk[pre:]
            break
        rest = chunk[pre:]
        suf = _suffix_length(rest, rules) if rest else 0
        if suf and chunk[:-suf] in specials:
            suffixes.append(chunk[-suf:])
            chunk = chunk[:-suf]
            break
        if pre and suf and pre + suf <= len(chunk):
            prefixes.append(chunk[:pre])
            suffixes.append(chunk[-suf:])
            chunk = chunk[pre:-suf]
        elif pre:
            prefixes.append(chunk[:pre])
            chunk = rest
        elif suf:
            suffixes.append(chunk[-suf:])
            chunk = chunk[:-suf]
        if len(chunk) == before:
            break
    out.extend(prefixes)
    if chunk:
        special = specials.get(chunk)
        if special is not None:
            out.extend(special)
        elif "." in chunk and rules.url(chunk):
            out.append(chunk)
        else:
            _infixes(chunk, rules, out)
    out.extend(reversed(suffixes))


def _merge_specials(pieces: list[str], rules: _Rules) -> list[str]:
    """Merge adjacent pieces that spell a special case (``Mr`` ``.`` → ``Mr.``).

    Like spaCy, candidate spans are taken longest first, then leftmost, and a span is
    dropped when its first or last piece was covered by a span considered before it.
    """
    found: list[tuple[int, int, str]] = []
    merges = rules.merges
    for index, piece in enumerate(pieces):
        for pattern, text in merges.get(piece, ()):
            if tuple(pieces[index : index + len(pattern)]) == pattern:
                found.append((index, index + len(pattern), text))
    if not found:
        return pieces
    found.sort(key=lambda span: (span[0] - span[1], span[0]))
    covered: set[int] = set()
    accepted: dict[int, tuple[int, str]] = {}
    for begin, end, text in found:
        if begin not in covered and end - 1 not in covered:
            accepted[begin] = (end, text)
        covered.update(range(begin, end))
    merged: list[str] = []
    index = 0
    while index < len(pieces):
        if index in accepted:
            end, text = accepted[index]
            merged.extend(rules.specials[text])
            index = end
        else:
            merged.append(pieces[index])
            index += 1
    return merged


#: the common chunk shape: a word between opening and closing punctuation ("(word)," ...)
_AFFIXED_WORD = re.compile(
    r"([(\[{\"'“‘«—–]*)([^\W\d_]+)((?:[)\]}\"'”’»,;:!?—–]|\.(?!\.))*)"
).fullmatch


_APOSTROPHES = ("'", "’", "‘")


def _split_affixed_word(match: re.Match[str], out: list[str], rules: _Rules) -> None:
    """Split a chunk of :data:`_AFFIXED_WORD` shape (same result as :func:`_split_chunk`)."""
    opening, word, closing = match.groups()
    if "." in closing and (
        (closing[0] == "." and not _period_splits(word + ".", rules))
        or "—." in closing
        or "–." in closing
    ):
        _split_chunk(match.string, out, rules)
        return
    pieces = list(opening)
    special = rules.specials.get(word)
    if special is None:
        pieces.append(word)
    else:
        pieces.extend(special)
    pieces.extend(closing)
    # a special case can only span pieces here through these (Mr., 'em, goin', "):", "''")
    if (
        len(opening) > 1
        or len(closing) > 1
        or opening[-1:] in _APOSTROPHES
        or closing[:1] in _APOSTROPHES
        or closing[:1] == "."
    ):
        pieces = _merge_specials(pieces, rules)
    out.extend(pieces)


#: chunks longer than this are split on punctuation runs only (spaCy's affix loop is
#: quadratic in the chunk length; such chunks are base64 blobs and minified code)
MAX_CHUNK = 1000
_LONG_CHUNK = re.compile(r"\w+|[^\w\s]+")


def _split_complex_chunk(chunk: str, rules: _Rules) -> tuple[str, ...]:
    """Words of a chunk that is not plain letters or digits."""
    if chunk in rules.specials:
        return rules.specials[chunk]
    if (affixed := _AFFIXED_WORD(chunk)) is not None:
        words: list[str] = []
        _split_affixed_word(affixed, words, rules)
        return tuple(words)
    if len(chunk) > MAX_CHUNK:
        if "." in chunk and rules.url(chunk):
            return (chunk,)
        return tuple(_LONG_CHUNK.findall(chunk))
    pieces: list[str] = []
    _split_chunk(chunk, pieces, rules)
    if len(pieces) > 1:
        pieces = _merge_specials(pieces, rules)
    return tuple(pieces)


#: words of recently seen chunks with punctuation ("mill," "(1850)." ...): they repeat a
#: lot, so each is split once; the cache is emptied when it reaches this many entries.
#: An entry holds about 290 bytes, so 100,000 of them are 28 MiB of each worker. On the e2e
#: bench's pages (1.39M such chunks in 14,720 documents, 170k distinct, 4.3 µs a split),
#: 200,000 missed 12% of lookups for 55 MiB, 100,000 misses 21% (+0.55 CPU s per 100 MB of
#: WARC, about 1%), 50,000 30%.
CHUNK_CACHE_SIZE = 100_000
_chunk_cache: dict[str, tuple[str, ...]] = {}


def _cached_complex_chunk(chunk: str, rules: _Rules) -> tuple[str, ...]:
    """:func:`_split_complex_chunk` through the cache of recently split chunks."""
    pieces = _chunk_cache.get(chunk)
    if pieces is None:
        pieces = _split_complex_chunk(chunk, rules)
        if len(_chunk_cache) >= CHUNK_CACHE_SIZE:
            _chunk_cache.clear()
        _chunk_cache[chunk] = pieces
    return pieces


def chunk_words(chunk: str) -> tuple[str, ...]:
    """The words of one whitespace-free chunk, as :func:`split_english` splits it."""
    rules = _rules()
    if chunk.isalpha() or chunk.isdecimal():
        special = rules.specials.get(chunk)
        return (chunk,) if special is None else tuple(special)
    return _cached_complex_chunk(chunk, rules)


def split_english(text: str) -> list[str]:
    """The words of ``text`` as spaCy's English tokenizer splits them (no whitespace)."""
    rules = _rules()
    specials = rules.specials
    words: list[str] = []
    append = words.append
    extend = words.extend
    for chunk in text.split():
        if chunk.isalpha() or chunk.isdecimal():
            special = specials.get(chunk)
            if special is None:
                append(chunk)
            else:
                extend(special)
            continue
        extend(_cached_complex_chunk(chunk, rules))
    return words
