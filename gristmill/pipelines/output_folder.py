"""Who owns the output folder: a marker, a lock, and a ``--fresh`` that deletes only ours.

A run claims its output folder before it writes anything:

- **Marker.** ``.gristmill-output.json`` says the folder is (or was being made into) a
  gristmill output. A folder with ``run.json`` written by gristmill counts as one too (runs
  made before the marker existed).
- **Lock.** ``.gristmill.lock`` is created exclusively (``O_EXCL``) and holds the pid, the
  host and the process start time of the run. A second run on the same folder is refused
  while the holder lives. A lock left by a killed run is *stale* — same host, and no
  process with that pid and start time — and is taken over; a lock from another host is
  never guessed stale (the message says how to remove it). Only local folders are locked:
  object stores have no exclusive create.
- **Fresh.** ``--fresh`` deletes only the entries gristmill writes
  (:data:`GRISTMILL_ENTRIES`), and only in a folder that carries the marker; anything else
  in it is left alone. A folder that is not empty and is not a previous run is refused,
  never emptied. A plain (resuming) run into a folder that is not a previous run is refused
  when one of gristmill's entry names is already taken there, so it never mixes its files
  with someone else's.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psutil

from gristmill import __version__
from gristmill.storage import url_to_fs

MARKER_FILE = ".gristmill-output.json"
LOCK_FILE = ".gristmill.lock"
RUN_FILE = "run.json"

#: Every top-level entry a run writes into its output folder, and the module that names it:
#: pipelines/plan.py (data, rejected, work), pipelines/runner.py (run.json),
#: report/writer.py (report), tokenize/layout.py (tokenizer, tokens),
#: mixture/manifest.py (manifest.json, shards), mixture/megatron.py (megatron).
GRISTMILL_ENTRIES = frozenset(
    {
        "data",
        "rejected",
        "work",
        RUN_FILE,
        "report",
        "tokenizer",
        "tokens",
        "manifest.json",
        "shards",
        "megatron",
        MARKER_FILE,
    }
)
#: how many foreign entries an error message lists
_SHOWN_ENTRIES = 5


class OutputFolderError(RuntimeError):
    """The output folder cannot be used as asked; the message says why and what to do."""


class OutputFolderBusy(OutputFolderError):
    """Another live run holds the output folder's lock."""


@contextmanager
def claimed_output(url: str, fresh: bool) -> Iterator[list[str]]:
    """Lock the output folder at ``url``, check that it is ours (removing gristmill's
    entries when ``fresh``), mark it, and release the lock on exit however the run ends.
    Yields the names of entries gristmill did not write, which it leaves alone."""
    fs, root = url_to_fs(url)
    if fs.exists(root) and not fs.isdir(root):
        raise OutputFolderError(f"the output {root} exists and is not a folder")
    fs.makedirs(root, exist_ok=True)
    lock = OutputLock(root) if "file" in fs.protocol else None
    if lock is not None:
        lock.acquire()
    try:
        foreign = _prepare(fs, root, fresh)
        yield foreign
    finally:
        if lock is not None:
            lock.release()


def _prepare(fs: Any, root: str, fresh: bool) -> list[str]:
    try:
        listing = fs.ls(root, detail=False)
    except FileNotFoundError:  # an object store has no empty folders: a new prefix
        listing = []
    entries = sorted(posixpath.basename(path.rstrip("/")) for path in listing)
    entries = [name for name in entries if name != LOCK_FILE]
    foreign = [name for name in entries if name not in GRISTMILL_ENTRIES]
    if not is_previous_run(fs, root, entries):
        if fresh and entries:
            raise OutputFolderError(
                f"--fresh: {root} is not the output of a gristmill run (it has no "
                f"{MARKER_FILE}) and is not empty: {_listing(entries)}. gristmill deletes "
                "only what it wrote; choose another output folder, or empty this one yourself"
            )
        taken = [name for name in entries if name in GRISTMILL_ENTRIES]
        if taken:
            raise OutputFolderError(
                f"{root} is not the output of a gristmill run (it has no {MARKER_FILE}) but "
                f"already holds {_listing(taken)}, which a run would write into; choose "
                "another output folder"
            )
    elif fresh:
        for name in entries:
            if name in GRISTMILL_ENTRIES and name != MARKER_FILE:
                fs.rm(posixpath.join(root, name), recursive=True)
    _write_marker(fs, root)
    return foreign


def is_previous_run(fs: Any, root: str, entries: list[str]) -> bool:
    """The folder carries the marker, or a ``run.json`` that gristmill wrote."""
    if MARKER_FILE in entries:
        return True
    if RUN_FILE not in entries:
        return False
    try:
        with fs.open(posixpath.join(root, RUN_FILE)) as handle:
            run = json.load(handle)
    except (OSError, ValueError):
        return False
    return isinstance(run, dict) and "gristmill_version" in run


def _write_marker(fs: Any, root: str) -> None:
    path = posixpath.join(root, MARKER_FILE)
    if fs.exists(path):
        return
    with fs.open(path, "w") as handle:
        json.dump({"written_by": "gristmill", "version": __version__}, handle)
        handle.write("\n")


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:_SHOWN_ENTRIES])
    more = len(names) - _SHOWN_ENTRIES
    return f"{shown} and {more} more" if more > 0 else shown


@dataclass(frozen=True)
class LockHolder:
    """What a lock file records about the run that holds it."""

    pid: int
    host: str
    process_started: float
    locked_at: float
    token: str

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.locked_at))
        return f"pid {self.pid} on host {self.host} (since {when})"

    def is_alive(self) -> bool:
        """Whether the holding process still runs; a lock of another host counts as alive
        (nothing here can tell)."""
        if self.host != socket.gethostname():
            return True
        try:
            started = psutil.Process(self.pid).create_time()
        except psutil.NoSuchProcess:
            return False
        # a recycled pid belongs to a process started later than the holder
        return abs(started - self.process_started) < 1.0


class OutputLock:
    """An exclusive lock file in a local output folder."""

    def __init__(self, root: str) -> None:
        self.path = os.path.join(root, LOCK_FILE)
        self.token = uuid.uuid4().hex

    def acquire(self) -> None:
        for _ in range(3):
            if self._create():
                return
            holder = self._holder()
            if holder is None:
                continue  # removed meanwhile, or half written: look again
            if holder.is_alive():
                raise OutputFolderBusy(
                    f"{os.path.dirname(self.path)} is in use by another gristmill run: "
                    f"{holder.describe()}. Wait for it to finish; if no such run is alive "
                    f"on {holder.host}, delete {self.path}"
                )
            self._remove_stale(holder)
        raise OutputFolderBusy(f"could not lock {self.path}: other runs keep taking it")

    def release(self) -> None:
        holder = self._holder()
        if holder is not None and holder.token == self.token:
            os.unlink(self.path)

    def _create(self) -> bool:
        try:
            descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        process = psutil.Process()
        record = {
            "pid": process.pid,
            "host": socket.gethostname(),
            "process_started": process.create_time(),
            "locked_at": time.time(),
            "token": self.token,
        }
        with os.fdopen(descriptor, "w") as handle:
            json.dump(record, handle)
        return True

    def _holder(self) -> LockHolder | None:
        try:
            with open(self.path, encoding="utf-8") as handle:
                return LockHolder(**json.load(handle))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError):
            time.sleep(0.2)  # a lock being written right now
            try:
                with open(self.path, encoding="utf-8") as handle:
                    return LockHolder(**json.load(handle))
            except FileNotFoundError:
                return None
            except (OSError, ValueError, TypeError) as error:
                raise OutputFolderBusy(
                    f"{self.path} is not a gristmill lock file ({error}); delete it if no "
                    "run is using this output folder"
                ) from None

    def _remove_stale(self, stale: LockHolder) -> None:
        """Move the stale lock aside (atomic: of two runs taking it over, one wins); a
        lock that another run created meanwhile is put back."""
        aside = f"{self.path}.stale-{self.token}"
        try:
            os.rename(self.path, aside)
        except FileNotFoundError:
            return
        try:
            with open(aside, encoding="utf-8") as handle:
                moved = json.load(handle).get("token")
        except (OSError, ValueError, AttributeError):
            moved = stale.token
        if moved != stale.token:
            # fails when yet another lock appeared meanwhile: that one stands
            with contextlib.suppress(FileExistsError):
                os.link(aside, self.path)
        os.unlink(aside)
