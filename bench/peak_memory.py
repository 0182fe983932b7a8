"""Peak resident memory of this process (the Dask client and embedded scheduler) and of its
descendants (the workers and their nannies), sampled by a background thread."""

from __future__ import annotations

import contextlib
import threading
import time

import psutil


class PeakMemory:
    """``client``: this process's peak; ``worker``: the largest descendant's;
    ``children``: the descendants' summed peak; ``total``: all of them together."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.client = 0
        self.worker = 0
        self.children = 0
        self.total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                own = me.memory_info().rss
                self.client = max(self.client, own)
                children = 0
                for child in me.children(recursive=True):
                    with contextlib.suppress(psutil.Error):
                        rss = child.memory_info().rss
                        children += rss
                        self.worker = max(self.worker, rss)
                self.children = max(self.children, children)
                self.total = max(self.total, own + children)
            time.sleep(self.interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
