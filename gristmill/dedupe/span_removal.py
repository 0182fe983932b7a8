"""Remove character spans from a text and leave tidy separators behind.

Sentence dedup, in-document repetition removal and decontamination all cut spans out of a
document (datatrove's ``SentenceDedupFilter`` rebuilds the text from the kept sentences).
Cutting only the span would leave doubled spaces or merge the lines around it; here each
removed run takes the whitespace on both sides with it and is replaced by the strongest
separator it touched: a blank line if either side had one, else a line break (keeping the
next line's indentation, which matters for code), else a space.
"""

from __future__ import annotations

from collections.abc import Iterable

Span = tuple[int, int]


def merge_spans(spans: Iterable[Span], join_gap: str | None = None) -> list[Span]:
    """Sort and merge overlapping (or touching) spans. With ``join_gap`` (a text), spans
    separated only by whitespace in it are merged too."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and (
            start <= merged[-1][1]
            or (join_gap is not None and not join_gap[merged[-1][1] : start].strip())
        ):
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def _separator(before: str, after: str, at_start: bool, at_end: bool) -> str:
    if at_start or at_end:
        return ""
    breaks = max(before.count("\n"), after.count("\n"))
    if breaks == 0:
        return " "
    indent = after[after.rfind("\n") + 1 :] if "\n" in after else ""
    return "\n" * min(breaks, 2) + indent


def remove_spans(text: str, spans: Iterable[Span]) -> str:
    """``text`` without the given spans (merged when only whitespace lies between them)."""
    runs = merge_spans(spans, join_gap=text)
    if not runs:
        return text
    pieces: list[str] = []
    cursor = 0
    kept_text = False
    for start, end in runs:
        before_start = start
        while before_start > cursor and text[before_start - 1].isspace():
            before_start -= 1
        after_end = end
        while after_end < len(text) and text[after_end].isspace():
            after_end += 1
        kept = text[cursor:before_start]
        kept_text = kept_text or not kept.isspace() and bool(kept)
        pieces.append(kept)
        pieces.append(
            _separator(
                text[before_start:start],
                text[end:after_end],
                at_start=not kept_text,
                at_end=after_end == len(text),
            )
        )
        cursor = after_end
    pieces.append(text[cursor:])
    return "".join(pieces).strip()
