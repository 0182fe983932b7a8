"""Check the files a step reads (models, word lists, benchmarks) before a run starts.

Every path a step declares in :meth:`gristmill.steps.Step.input_files` is hashed into the
run's fingerprints and later loaded by the workers. A path that is a device (``/dev/zero``,
``/dev/urandom``), a FIFO or a socket would make that hashing read forever, and a huge
file would stall the client, so each one must be a regular file, or a folder holding only
regular files (a ``model_dir``), of at most :data:`MAX_INPUT_BYTES`. A path that breaks the
rule is a config error naming the config key that holds it. A path that does not exist is
left to the step, which names it when it loads. Paths on other filesystems (``s3://``...)
are checked through fsspec's ``info``; globs are checked per match.
"""

from __future__ import annotations

import glob
import os
import stat
from collections.abc import Iterator
from typing import Any

from gristmill.steps import Step
from gristmill.storage import url_to_fs

#: the largest model, word list or benchmark a step may read (a folder: all its files)
MAX_INPUT_BYTES = 64 * 2**30
#: the most files a folder given as a step input may hold
MAX_FOLDER_FILES = 10_000
_GLOB_CHARACTERS = "*?["


class InputFileError(ValueError):
    """A step input is not a regular file, or too large; the message says which."""


def check_step_inputs(step: Step, where: str) -> None:
    """Raise :class:`InputFileError` ``"<where>.<key>: <path>: <problem>"`` for the first
    input of ``step`` that is not a bounded regular file (or a folder of them)."""
    for url in step.input_files():
        problem = input_problem(url)
        if problem is not None:
            key = parameter_key(step, url)
            raise InputFileError(
                f"{where}.{key}: {url}: {problem}"
                if key
                else f"{where}: input file {url}: {problem}"
            )


def input_problem(url: str) -> str | None:
    """What is wrong with one step input (None when it is fine)."""
    if "://" in url and not url.startswith("file://"):
        return _remote_problem(url)
    path = url.removeprefix("file://")
    if any(character in path for character in _GLOB_CHARACTERS):
        matches = sorted(glob.glob(path))
        for match in matches:
            problem = _local_problem(match)
            if problem is not None:
                return f"{match}: {problem}"
        return None
    return _local_problem(path)


def _local_problem(path: str) -> str | None:
    try:
        info = os.stat(path)  # follows symlinks: a link to /dev/zero is a device
    except FileNotFoundError:
        return None  # the step itself says so when it loads the file
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    if stat.S_ISDIR(info.st_mode):
        return _folder_problem(path)
    if not stat.S_ISREG(info.st_mode):
        return f"is a {_kind(info.st_mode)}, not a regular file"
    if info.st_size > MAX_INPUT_BYTES:
        return f"is {info.st_size:,} bytes; at most {MAX_INPUT_BYTES:,} are allowed"
    return None


def _folder_problem(folder: str) -> str | None:
    total = 0
    try:
        for count, (path, info) in enumerate(_walk(folder), start=1):
            if count > MAX_FOLDER_FILES:
                return f"holds more than {MAX_FOLDER_FILES:,} files"
            if not stat.S_ISREG(info.st_mode):
                return f"{path} is a {_kind(info.st_mode)}, not a regular file"
            total += info.st_size
            if total > MAX_INPUT_BYTES:
                return f"holds more than {MAX_INPUT_BYTES:,} bytes"
    except OSError as error:
        return f"cannot be listed: {error}"
    return None


def _walk(folder: str) -> Iterator[tuple[str, os.stat_result]]:
    """Every non-folder under ``folder`` with its stat (symlinks followed, folders once)."""
    pending = [folder]
    seen: set[tuple[int, int]] = set()
    while pending:
        current = pending.pop()
        with os.scandir(current) as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                info = os.stat(entry.path)
                if stat.S_ISDIR(info.st_mode):
                    if (info.st_dev, info.st_ino) not in seen:
                        seen.add((info.st_dev, info.st_ino))
                        pending.append(entry.path)
                else:
                    yield entry.path, info


def _remote_problem(url: str) -> str | None:
    fs, path = url_to_fs(url)
    matches = fs.glob(path) if any(c in path for c in _GLOB_CHARACTERS) else [path]
    for match in matches if matches and fs.exists(matches[0]) else []:
        info = fs.info(match)
        if info.get("type") == "directory":
            size = sum(int(item.get("size") or 0) for item in fs.find(match, detail=True).values())
        elif info.get("type") == "file":
            size = int(info.get("size") or 0)
        else:
            return f"{match}: is a {info.get('type')}, not a regular file"
        if size > MAX_INPUT_BYTES:
            return f"{match}: is {size:,} bytes; at most {MAX_INPUT_BYTES:,} are allowed"
    return None


def _kind(mode: int) -> str:
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


def parameter_key(step: Step, url: str) -> str | None:
    """The dotted name of the step parameter holding ``url`` (``word_lists.en``,
    ``benchmarks[0].path``), or None when no parameter holds it verbatim."""
    return _find_value(step.model_dump(mode="json"), url, "")


def _find_value(value: Any, wanted: str, where: str) -> str | None:
    if isinstance(value, str):
        return where if value == wanted else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _find_value(item, wanted, f"{where}.{key}" if where else str(key))
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _find_value(item, wanted, f"{where}[{index}]")
            if found:
                return found
    return None
