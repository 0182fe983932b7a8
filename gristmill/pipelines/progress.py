"""Progress of running shards, by input bytes, reported from the workers to the client.

A finished shard is counted whole; a running one reports how many bytes of its input it
has read so far, so that one huge shard moves the bar and the ETA instead of showing 0/1
for the whole run. The byte count is the worker process's ``rchar`` (``/proc/self/io``:
bytes returned by read system calls, files and sockets alike) since the task started,
capped at the shard's size: exact for the one-thread workers gristmill starts, an
estimate where a worker runs several tasks at once. Reports travel as Dask worker events
(``Worker.log_event`` → ``Client.subscribe_topic``), at most one per second per task.
Where ``/proc`` or a worker is absent, a shard simply counts when it finishes.
"""

from __future__ import annotations

import time
from typing import Any

TOPIC = "gristmill-progress"
#: seconds between two reports of one task
INTERVAL_S = 1.0


def _read_chars() -> int | None:
    try:
        with open("/proc/self/io", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("rchar:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


class ShardProgress:
    """Worker side: call :meth:`update` after each batch of a task."""

    def __init__(self, task_key: str, input_bytes: int) -> None:
        self.task_key = task_key
        self.input_bytes = input_bytes
        self.start = _read_chars()
        self.last = time.monotonic()
        try:
            from distributed import get_worker

            self.worker: Any = get_worker()
        except (ImportError, ValueError):
            self.worker = None

    def update(self) -> None:
        if self.worker is None or self.start is None or self.input_bytes <= 0:
            return
        now = time.monotonic()
        if now - self.last < INTERVAL_S:
            return
        self.last = now
        read = _read_chars()
        if read is None:
            return
        done = min(read - self.start, self.input_bytes)
        try:
            self.worker.log_event(TOPIC, {"task": self.task_key, "bytes": done})
        except Exception:  # progress is best effort: never fail a shard for it
            self.worker = None
