"""Filesystem options (endpoint, credentials profile, anonymous access) per URL prefix.

fsspec opens ``s3://``, ``gs://`` and other URLs with options that the URL cannot carry:
an S3-compatible endpoint, a credentials profile, anonymous access to a public bucket. A
config gives them per source (``storage_options:`` next to its ``paths``) and for the
output (top-level ``storage_options:``); they are registered here for the URL prefixes
they belong to, in the client and, through a Dask worker plugin, in every worker, so every
file gristmill opens — by :func:`url_to_fs` or in Dask's own Parquet reads
(:func:`options_for`) — gets the options of the longest registered prefix of its URL.
Reading a public CommonCrawl bucket anonymously while writing to a private one is two
prefixes with their own options.
"""

from __future__ import annotations

from typing import Any

import fsspec.core
from fsspec import AbstractFileSystem

#: (URL prefix, options), longest prefix first
_REGISTERED: list[tuple[str, dict[str, Any]]] = []


def url_root(url: str) -> str:
    """The part of a path or glob before its first wildcard, as a prefix for options."""
    cut = min((url.index(c) for c in "*?[" if c in url), default=len(url))
    return url[:cut]


def register(prefix: str, options: dict[str, Any] | None) -> None:
    """Use ``options`` for every URL starting with ``prefix`` (in this process)."""
    if not options or "://" not in prefix:
        return
    entry = (prefix, dict(options))
    if entry not in _REGISTERED:
        _REGISTERED.append(entry)
        _REGISTERED.sort(key=lambda item: -len(item[0]))


def registered() -> list[tuple[str, dict[str, Any]]]:
    return list(_REGISTERED)


def clear() -> None:
    _REGISTERED.clear()


def options_for(url: str) -> dict[str, Any]:
    """The options of the longest registered prefix of ``url`` (none: ``{}``)."""
    for prefix, options in _REGISTERED:
        if url.startswith(prefix):
            return dict(options)
    return {}


def url_to_fs(url: str, **kwargs: Any) -> tuple[AbstractFileSystem, str]:
    """``fsspec.core.url_to_fs`` with the options registered for the URL."""
    return fsspec.core.url_to_fs(url, **{**options_for(url), **kwargs})


def open_url(url: str, mode: str = "rb", **kwargs: Any):
    """``fsspec.open`` with the options registered for the URL."""
    return fsspec.open(url, mode, **{**options_for(url), **kwargs})
