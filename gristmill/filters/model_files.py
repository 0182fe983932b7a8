"""Model files for filters: sha256 verification and checksummed downloads into a cache.

Filters that load third-party models (the fastText language identifier, quality
classifiers, KenLM models) verify the file's sha256 before loading it, as pip does with
``--require-hashes``, so that a truncated or swapped file fails loudly with both digests
in the message. Downloads stream into a temporary file beside the destination, are hashed
while they are written and are renamed into the cache only when the digest matches.
The cache is ``$GRISTMILL_CACHE`` or ``~/.cache/gristmill/models``.
"""

from __future__ import annotations

import functools
import hashlib
import os
import urllib.request
import uuid
from pathlib import Path

CACHE_ENV = "GRISTMILL_CACHE"
_CHUNK = 1 << 20


class ChecksumMismatch(ValueError):
    """A model file's sha256 differs from the expected one."""


def cached_per_file_version(maxsize: int = 8):
    """``functools.lru_cache`` for loaders whose first argument is a file path: the file's
    size and modification time join the key, so a file replaced in place (a retrained
    model, an edited word list) is loaded again by a long-lived worker."""

    def decorate(function):
        @functools.lru_cache(maxsize=maxsize)
        def cached(version, path, *args):
            return function(path, *args)

        @functools.wraps(function)
        def load(path, *args):
            return cached(_file_version(path), path, *args)

        load.cache_clear = cached.cache_clear
        return load

    return decorate


def _file_version(path: str | Path) -> tuple[int, int] | None:
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None  # a model name, a remote URL or a missing file: the loader decides
    return status.st_size, status.st_mtime_ns


def cache_dir() -> Path:
    """Where downloaded models are kept (``$GRISTMILL_CACHE`` or ~/.cache/gristmill/models)."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "gristmill" / "models"


def sha256_of(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_sha256(path: str | Path, expected: str) -> None:
    """Raise :class:`ChecksumMismatch` naming the file when its digest is not ``expected``."""
    actual = sha256_of(path)
    if actual != expected.lower():
        raise ChecksumMismatch(
            f"{path}: sha256 {actual} does not match the expected {expected.lower()}; "
            "the file is corrupt, truncated or a different model"
        )


def download(url: str, sha256: str, destination: str | Path, timeout: float = 60.0) -> Path:
    """Fetch ``url`` into ``destination`` when its sha256 matches; returns the path.

    The file appears under its final name only once complete and verified, so concurrent
    workers and interrupted downloads never leave a half-written model behind.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f"{destination.name}.part-{uuid.uuid4().hex[:12]}")
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, partial.open("wb") as out:
            while chunk := response.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256.lower():
            raise ChecksumMismatch(
                f"{url}: downloaded sha256 {digest.hexdigest()} does not match the expected "
                f"{sha256.lower()}"
            )
        os.replace(partial, destination)
    finally:
        partial.unlink(missing_ok=True)
    return destination
