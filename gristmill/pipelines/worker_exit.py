"""The embedded cluster's worker processes leave through :func:`~gristmill.process_exit.exit_now`
once they have closed cleanly (kept apart from the runner: a worker unpickles this plugin
and should not import the whole runner for it)."""

from __future__ import annotations

import atexit
import sys
from typing import Any

from distributed import WorkerPlugin

from gristmill.process_exit import exit_now


class FastExitPlugin(WorkerPlugin):
    """A worker process of the embedded cluster that has closed cleanly exits through
    :func:`~gristmill.process_exit.exit_now` (code 0) instead of tearing its interpreter down.

    The handler is registered at ``atexit`` when the plugin is set up. It acts only if
    the worker's ``teardown`` ran and no uncaught exception reached ``sys.excepthook``.
    Any other exit takes the normal path and its own exit code."""

    name = "gristmill-fast-exit"

    def __init__(self) -> None:
        self.closed = False
        self.failed = False

    def setup(self, worker: Any) -> None:
        previous_hook = sys.excepthook

        def note_failure(*exc_info: Any) -> None:
            self.failed = True
            previous_hook(*exc_info)

        sys.excepthook = note_failure
        atexit.register(self._exit)

    def teardown(self, worker: Any) -> None:
        self.closed = True

    def _exit(self) -> None:
        if self.closed and not self.failed:
            atexit.unregister(self._exit)
            exit_now(0)
