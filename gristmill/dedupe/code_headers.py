"""Strip the leading comment block (licence header) of source files before shingling.

Source files of one project share a long licence or copyright comment, and small files are
mostly that comment: shingled whole, distinct headers of a few declarations look like
near-duplicates (Allamanis, "The adverse effects of code duplication in machine learning
models of code", 2019, tokenises code and ignores comments for the same reason; The Stack's
near-dedup, Kocetkov et al. 2022, shingles code tokens). This removes what comes before
the first line of code: whitespace, ``/* ... */`` and ``<!-- ... -->`` blocks, and line
comments ``//``, ``--``, ``;;`` and ``#`` (followed by a space, tab, ``!``, ``#`` or the end
of the line, so that C preprocessor lines such as ``#include`` and ``#define`` are code). A
file that is nothing but comments is kept whole (its words are all it has).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

#: The leading comment block, as an RE2 pattern anchored at the start of the text.
LEADING_COMMENTS = (
    r"\A(?:\s+"
    r"|/\*(?s:.*?)(?:\*/|\z)"
    r"|<!--(?s:.*?)(?:-->|\z)"
    r"|//[^\n]*"
    r"|--[^\n]*"
    r"|;;[^\n]*"
    r"|#(?:[ \t!#][^\n]*)?(?:\n|\z)"
    r")+"
)


def strip_leading_comments(texts: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Each text without its leading comment block, or whole if nothing else is left."""
    stripped = pc.replace_substring_regex(texts, LEADING_COMMENTS, "", max_replacements=1)
    empty = pc.equal(pc.binary_length(stripped), 0)
    return pc.if_else(empty, texts, stripped)
