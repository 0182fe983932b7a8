"""Per-stage statistics and the accounting invariant.

Every stage of every shard reports documents and bytes in and out, removals by reason,
extra counters and time. They merge by summation into ``run.json``. The invariant
``docs_in == docs_out + sum(removed)`` is checked for every stage of every shard and again
after merging, together with the chain ``docs_out(stage i) == docs_in(stage i + 1)``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from gristmill.pipelines.signal_stats import merge_histograms

#: example documents kept per removal reason (and for "kept") in the run stats
SAMPLES_PER_KEY = 3
SAMPLE_CHARS = 600


class AccountingError(RuntimeError):
    """Documents went missing or appeared from nowhere: the run must not go on."""


@dataclass
class StageStats:
    stage: str
    docs_in: int = 0
    docs_out: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    removed: Counter = field(default_factory=Counter)
    counters: Counter = field(default_factory=Counter)
    wall_s: float = 0.0
    cpu_s: float = 0.0
    #: signal column → mergeable histogram (see :mod:`gristmill.pipelines.signal_stats`)
    signals: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the same histograms over the documents this stage removed (kept = all - removed)
    signals_removed: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: "kept" or a removal reason → a few example documents (id, url, start of text)
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def check(self, where: str) -> None:
        removed = sum(self.removed.values())
        if self.docs_in != self.docs_out + removed:
            raise AccountingError(
                f"{where}: stage {self.stage!r} read {self.docs_in} documents but kept "
                f"{self.docs_out} and removed {removed} ({dict(self.removed)})"
            )

    def add(self, other: StageStats) -> None:
        self.docs_in += other.docs_in
        self.docs_out += other.docs_out
        self.bytes_in += other.bytes_in
        self.bytes_out += other.bytes_out
        self.removed.update(other.removed)
        self.counters.update(other.counters)
        self.wall_s += other.wall_s
        self.cpu_s += other.cpu_s
        for mine, theirs in ((self.signals, other.signals),
                             (self.signals_removed, other.signals_removed)):  # fmt: skip
            for name, summary in theirs.items():
                have = mine.get(name)
                mine[name] = summary if have is None else merge_histograms(have, summary)
        for key, documents in other.samples.items():
            merged = self.samples.get(key, []) + documents
            self.samples[key] = sorted(merged, key=lambda doc: doc["id"])[:SAMPLES_PER_KEY]

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "docs_in": self.docs_in,
            "docs_out": self.docs_out,
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "removed": dict(sorted(self.removed.items())),
            "counters": dict(sorted(self.counters.items())),
            "wall_s": round(self.wall_s, 6),
            "cpu_s": round(self.cpu_s, 6),
            "signals": self.signals,
            "signals_removed": self.signals_removed,
            "samples": self.samples,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StageStats:
        return cls(
            stage=data["stage"],
            docs_in=data["docs_in"],
            docs_out=data["docs_out"],
            bytes_in=data["bytes_in"],
            bytes_out=data["bytes_out"],
            removed=Counter(data["removed"]),
            counters=Counter(data["counters"]),
            wall_s=data["wall_s"],
            cpu_s=data["cpu_s"],
            signals=data.get("signals", {}),
            signals_removed=data.get("signals_removed", {}),
            samples=data.get("samples", {}),
        )


def check_chain(stages: list[StageStats], where: str) -> None:
    """Each stage's input is the previous stage's output; each stage balances."""
    for stats in stages:
        stats.check(where)
    for before, after in zip(stages, stages[1:], strict=False):
        if before.docs_out != after.docs_in:
            raise AccountingError(
                f"{where}: stage {before.stage!r} passed on {before.docs_out} documents "
                f"but stage {after.stage!r} received {after.docs_in}"
            )


def merge_source_stats(shard_records: list[dict[str, Any]]) -> list[StageStats]:
    """Sum the per-shard stage records of one source, stage by stage, in stage order."""
    merged: dict[str, StageStats] = {}
    for record in shard_records:
        for data in record["stages"]:
            stats = StageStats.from_dict(data)
            if stats.stage in merged:
                merged[stats.stage].add(stats)
            else:
                merged[stats.stage] = stats
    return list(merged.values())
