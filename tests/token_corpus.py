"""Small generated corpora for the tokenizer and mixture tests: three sources with their own
words (so a source's share of a sample or a stream is visible), short lines (so a sample
has many of them), and the text a tokenizer must round-trip: emoji, CJK, indentation,
digits, tabs, CRLF.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

SOURCE_WORDS = {
    "web": [
        "river",
        "mill",
        "grain",
        "stone",
        "wheel",
        "water",
        "flour",
        "miller",
        "farmer",
        "harvest",
        "bread",
        "market",
    ],
    "books": [
        "chapter",
        "letter",
        "castle",
        "queen",
        "knight",
        "winter",
        "garden",
        "journey",
        "silence",
        "candle",
    ],
    "code": [
        "def",
        "return",
        "class",
        "import",
        "self",
        "value",
        "index",
        "buffer",
        "parse",
        "token",
        "yield",
        "lambda",
    ],
}
TRICKY = [
    "Emoji 😀🎉 and flags 🇫🇷 mixed with text.",
    "中文文本，日本語のテキスト、한국어 텍스트。",
    "def f(x):\n    if x > 10:\n\t\treturn 12345 + x\n    return 0",
    "Digits 3.14159 and 2024-01-01, tabs\tand  double  spaces, CRLF\r\nline.",
    "A literal </s> and <s> in the text, and U+2581 free text.",
]


def document(rng: random.Random, words: list[str], lines: tuple[int, int]) -> str:
    count = rng.randint(*lines)
    body = [
        " ".join(rng.choice(words) for _ in range(rng.randint(5, 12))).capitalize() + "."
        for _ in range(count)
    ]
    if rng.random() < 0.2:
        body.insert(rng.randrange(len(body) + 1), rng.choice(TRICKY))
    if words is SOURCE_WORDS["code"]:
        body = [("    " * rng.randint(0, 2)) + line for line in body]
    return "\n".join(body)


def write_source(
    folder: Path, source: str, docs: int, shards: int = 2, seed: int = 0, lines=(5, 15)
) -> Path:
    rng = random.Random(f"{source}-{seed}")
    target = folder / source
    target.mkdir(parents=True, exist_ok=True)
    per_shard = -(-docs // shards)
    for shard in range(shards):
        with (target / f"part-{shard:02d}.jsonl").open("w", encoding="utf-8") as handle:
            for _ in range(min(per_shard, docs - shard * per_shard)):
                text = document(rng, SOURCE_WORDS[source], lines)
                handle.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
    return target


def three_sources(folder: Path, docs=(300, 120, 200)) -> dict[str, Path]:
    return {
        name: write_source(folder, name, count, seed=index)
        for index, (name, count) in enumerate(zip(("web", "books", "code"), docs, strict=True))
    }


def pipeline_config(
    paths: dict[str, Path],
    output: Path,
    weights: dict[str, float] | None = None,
    tokenizer: dict | None = None,
    mixture: dict | None = None,
    **top,
) -> dict:
    config = {
        "output": str(output),
        "sources": [
            {
                "name": name,
                "paths": [str(path)],
                "format": "jsonl",
                **({"weight": weights[name]} if weights else {}),
            }
            for name, path in paths.items()
        ],  # fmt: skip
        "tokenizer": {"vocab_size": 500, **(tokenizer or {})},
        **top,
    }
    if mixture is not None:
        config["mixture"] = mixture
    return config
