"""Ctrl-C and the embedded cluster: the client handles it, its workers ignore it.

A terminal's Ctrl-C sends SIGINT to every process of the foreground group. The client
alone should act on it (close the cluster, print the resume hint, exit 130) rather than
each worker printing its own KeyboardInterrupt traceback.

The workers used to inherit "ignore SIGINT" from the client, which ignored it while they
started, and so a Ctrl-C pressed in that second was lost: the run went on to the end.
Now the client only notes a Ctrl-C while the workers start, and raises it once they have
started (:func:`ctrl_c_held`). Each worker ignores SIGINT as it starts
(:func:`ignore_ctrl_c`, from :mod:`gristmill.pipelines.worker_preload`).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


def ignore_ctrl_c() -> None:
    """In a worker process: ignore SIGINT (from the main thread; elsewhere nothing)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)


@contextmanager
def ctrl_c_held() -> Iterator[None]:
    """Note a Ctrl-C inside the block and raise it as KeyboardInterrupt on leaving it, so
    that the block (starting the workers) is never cut in half. A process that ignores
    SIGINT (started in the background, or under ``nohup``) keeps ignoring it."""
    if threading.current_thread() is not threading.main_thread() or not callable(
        signal.getsignal(signal.SIGINT)
    ):
        yield
        return
    pressed: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if pressed:
            raise KeyboardInterrupt
