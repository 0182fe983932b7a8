"""Cut documents into the "sentences" a tokenizer trainer reads: lines of bounded size.

SentencePiece trains on lines and skips any longer than ``max_sentence_length`` bytes
(4,192 by default), so a long line (minified code, a paragraph without breaks) would be
lost to training. Lines are kept whole when they fit and otherwise cut at the last space
of each window (or at a character boundary when there is none); whitespace-only lines carry
nothing to learn and are dropped. The newline itself is left to byte fallback, as in LLaMA.
"""

from __future__ import annotations


def split_sentences(text: str, max_bytes: int) -> list[str]:
    """The non-blank lines of ``text``, each at most ``max_bytes`` UTF-8 bytes."""
    sentences: list[str] = []
    for line in text.split("\n"):
        if not line or line.isspace():
            continue
        if len(line) * 4 <= max_bytes or len(line.encode("utf-8")) <= max_bytes:
            sentences.append(line)
        else:
            sentences.extend(cut_long_line(line, max_bytes))
    return sentences


def cut_long_line(line: str, max_bytes: int) -> list[str]:
    """Pieces of at most ``max_bytes`` bytes, cut after a space where one is near the end."""
    data = line.encode("utf-8")
    pieces: list[str] = []
    start = 0
    while start < len(data):
        end = min(start + max_bytes, len(data))
        if end < len(data):
            space = data.rfind(b" ", start + max_bytes // 2, end)
            if space > start:
                end = space + 1
            else:
                while end > start and data[end] & 0xC0 == 0x80:  # not inside a character
                    end -= 1
        piece = data[start:end].decode("utf-8")
        if piece.strip():
            pieces.append(piece)
        start = end
    return pieces
