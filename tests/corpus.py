"""Small generated corpora for runner tests: deterministic, with duplicates and short docs."""

from __future__ import annotations

import json
import random
from pathlib import Path

import yaml

WORDS = ["river", "mill", "grain", "stone", "wheel", "water", "flour", "miller", "farmer", "harvest", "autumn", "bread", "bakery", "village", "market", "road", "bridge", "valley", "field", "wind", "sail", "barn", "cart", "horse", "season", "rain"]


def paragraph(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


def write_jsonl_corpus(
    folder: Path, shards: int = 4, docs_per_shard: int = 60, seed: int = 7
) -> list[Path]:
    """JSONL shards where every 10th document repeats an earlier one (also across shards)
    and every 7th is too short for a 20-word minimum."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    produced: list[str] = []
    paths = []
    for shard in range(shards):
        path = folder / f"part-{shard:03d}.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for index in range(docs_per_shard):
                if index % 10 == 9 and produced:
                    text = produced[rng.randrange(len(produced))]
                elif index % 7 == 6:
                    text = paragraph(rng, 5)
                else:
                    text = "\n\n".join(paragraph(rng, rng.randint(20, 80)) for _ in range(3))
                produced.append(text)
                handle.write(
                    json.dumps({"text": text, "url": f"https://example.org/{shard}/{index}"}) + "\n"
                )
        paths.append(path)
    return paths


def write_config(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def basic_config(corpus: Path, output: Path, **overrides) -> dict:
    config = {
        "output": str(output),
        "write_rejected": True,
        "sources": [
            {
                "name": "web",
                "paths": [str(corpus / "*.jsonl")],
                "format": "jsonl",
                "stages": ["normalize", {"length": {"min_words": 20}}, "exact_dedup"],
            }
        ],
    }
    config.update(overrides)
    return config
