"""Source-code reader: directory trees and tar/zip archives, one document per file.

Follows the preprocessing of The Stack (Kocetkov et al., 2022) and StarCoder (Li et al.,
2023): files are selected by language (extension table of GitHub Linguist, see
:mod:`gristmill.io.code_languages`), vendored folders are left out (Linguist's
``vendor.yml``: ``node_modules/``, ``vendor/``, ``third_party/``, ``.git/``, ...),
generated files are dropped (lock files, ``*.min.js``, protobuf output, a generator's
signature in the first lines: ``Code generated ... DO NOT EDIT``, ``@generated``, "This
file is automatically generated", see :mod:`gristmill.generated_code`), as are files over
1 MiB and minified-looking files (a mean line length over 100, The Stack's threshold, or
more than 10% of the lines over 1,000 characters, where The Stack drops a file for a single
such line; prose formats such as Markdown, whose paragraphs are single lines, only face the
second). A template's "generated" header (``config.h.in``) describes its output and is not
held against it. The licence of each file comes from the nearest licence file above it
(:mod:`gristmill.io.licenses`). Licence and notice files (``LICENSE*``, ``LICENCE*``,
``COPYING*``, ``UNLICENSE*``, ``COPYRIGHT*``, ``NOTICE*``, any case and suffix:
``LICENSE-MIT``, ``COPYING.LESSER``, ``NOTICE.txt``) are always documents, language
``Text`` (or the document format their extension names: ``LICENSE.md`` is Markdown) with
``meta.is_license``, whatever ``keep_unknown`` says; a name with a code extension
(``license.py``) is code.

Archives are read in memory, never extracted: tar (plain, gz, bz2, xz, zst) as a stream
— twice, the first pass reading only licence files, so that a licence that comes after
the files it covers still applies — and zip by random access. A member is refused,
without reading it, when its path is absolute or has a ``..`` component, or when it is a
symlink, hard link, device or FIFO: nothing a document names can point outside the
archive root. A symlink inside a local directory tree is refused the same way.

Shards: each archive (by suffix: ``.tar``, ``.tar.gz``, ``.tgz``, ``.tar.bz2``, ``.tar.xz``,
``.tar.zst``, ``.zip``), whether named in ``paths`` or found in a folder, is one shard named
after its path relative to the input folder (``numpy-2.0.tar.gz``,
``mirror__numpy-2.0.tar.gz``); the other files are grouped by repository folder (the first
``repo_depth`` path components) into shards ``{repo}-00000`` of at most ``shard_files``
files and ``shard_bytes`` bytes (:mod:`gristmill.io.file_groups`). The ordinal is
the file's index in its tree shard, or the member's index among the archive's
non-folder entries; the url is the path relative to the tree or archive root, and
``meta`` has ``language``, ``repo`` (first ``repo_depth`` components), ``path`` (the rest),
``license`` and ``is_license``.

Skipped files, counted under ``code:<reason>`` and checked in this order (path checks
first, so skipped files are not read): ``unsafe_path``, ``vendored``,
``unknown_language`` (no known extension, name or ``#!`` line; kept when
``keep_unknown``), ``excluded_language`` (not in ``languages``), ``generated``,
``oversized``, ``binary`` (a NUL byte in the first 8000 bytes, git's test),
``undecodable`` (not UTF-8), ``empty`` (whitespace only), ``minified``, ``encrypted``
(zip), ``not_a_file`` (a FIFO, device or socket in a tree, never opened: checked before
the path checks), ``unreadable`` (a file or folder of a tree, or an archive, that cannot
be opened or listed: one per path, the other files of the shard are read), and ``corrupt_archive`` (a member that cannot be decompressed, or a tar stream that
breaks: counted once, and once in ``records``, and what was read is kept).
"""

from __future__ import annotations

import lzma
import os
import posixpath
import re
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any, ClassVar

import fsspec
import pyarrow as pa
from fsspec.implementations.local import LocalFileSystem
from pydantic import Field

from gristmill.documents import BatchBuilder
from gristmill.generated_code import has_generator_signature
from gristmill.io.base import (
    Reader,
    ReaderCounts,
    Shard,
    expand_paths,
    input_problem,
    shard_name,
)
from gristmill.io.code_languages import (
    PROSE_LANGUAGES,
    has_extension,
    is_template,
    language_from_path,
    language_from_shebang,
)
from gristmill.io.compression import CorruptStream, open_decompressed
from gristmill.io.file_groups import grouped_shards, input_root, relative_path
from gristmill.io.licenses import (
    LicenseIndex,
    identify_license,
    is_license_file,
    license_document_language,
)
from gristmill.storage import open_url, url_to_fs

MIB = 1024 * 1024
ARCHIVE_SUFFIXES = (
    ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz", ".tar.zst", ".zip",
)  # fmt: skip

#: folder names whose content is third-party or tool state (Linguist's vendor.yml, short)
DEFAULT_VENDORED_DIRS = (
    ".git", ".hg", ".svn", ".bzr", "node_modules", "bower_components", "jspm_packages",
    "vendor", "vendors", "third_party", "third-party", "thirdparty", "3rdparty",
    "__pycache__", ".venv", "venv", "site-packages", ".tox", ".nox", ".mypy_cache",
    ".pytest_cache", ".gradle", ".idea", ".vs", "Pods", "Carthage",
)  # fmt: skip

GENERATED_FILE_NAMES = frozenset(
    {
        "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml",
        "bun.lockb", "cargo.lock", "poetry.lock", "pipfile.lock", "pdm.lock", "uv.lock",
        "composer.lock", "gemfile.lock", "podfile.lock", "mix.lock", "flake.lock",
        "go.sum", "packages.lock.json", "gradle.lockfile", "pubspec.lock",
    }
)  # fmt: skip
_GENERATED_NAME = re.compile(
    r".*(?:\.min\.(?:js|mjs|css)|\.(?:js|css)\.map|_pb2(?:_grpc)?\.pyi?|\.pb\.(?:go|cc|h|swift)"
    r"|\.pb\.gw\.go|_pb\.(?:js|d\.ts)|\.g\.dart|\.designer\.cs|\.generated\.\w+)",
    re.IGNORECASE,
)
#: markers of generated code in the first lines (Go's "Code generated ... DO NOT EDIT.",
#: Phabricator's "@generated", "This file was generated by ...", "autogenerated")
BINARY_SNIFF_BYTES = 8000
_DRIVE = re.compile(r"^[A-Za-z]:")
_TAR_ERRORS: tuple[type[BaseException], ...] = (tarfile.TarError, CorruptStream, EOFError, OSError)
_ZIP_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile, EOFError, OSError, zlib.error, lzma.LZMAError, NotImplementedError,
    RuntimeError, ValueError,  # ValueError: a name flagged UTF-8 that is not (fuzz tier)
)  # fmt: skip
_ZIP_TYPE_MASK = 0o170000
_ZIP_REGULAR = 0o100000

Loader = Callable[[], bytes | None]


class CodeReader(Reader):
    """Read source files from directory trees and tar/zip archives."""

    format: ClassVar[str] = "code"

    max_bytes: int = Field(MIB, gt=0, description="larger files are skipped (oversized)")
    max_line_length: int = Field(1000, gt=0, description="a longer line is a long line")
    max_mean_line_length: float = Field(100.0, gt=0, description="mean line length at most")
    max_long_line_fraction: float = Field(
        0.1, ge=0, le=1, description="share of long lines at most (else minified)"
    )
    languages: tuple[str, ...] | None = None
    keep_unknown: bool = False
    skip_generated: bool = True
    vendored_dirs: tuple[str, ...] = DEFAULT_VENDORED_DIRS
    repo_depth: int = Field(1, ge=0, description="leading path components naming the repo")
    shard_files: int = Field(10_000, gt=0, description="files of a tree per shard at most")
    shard_bytes: int = Field(64 * MIB, gt=0, description="bytes of a tree per shard at most")

    # ---- shards -------------------------------------------------------------------------

    def shards(self, source: str, paths: list[str]) -> list[Shard]:
        root = input_root(paths)
        tree_files: list[tuple[str, int]] = []
        archives: list[tuple[str, int]] = []
        for url, size in expand_paths(paths):
            is_archive = url.lower().endswith(ARCHIVE_SUFFIXES)
            (archives if is_archive else tree_files).append((url, size))
        shards = grouped_shards(
            source, tree_files, root, self.shard_files, self.shard_bytes, self.repo_depth
        )
        for url, size in archives:
            name = shard_name(relative_path(url, root))
            shards.append(Shard(source=source, name=name, paths=(url,), size=size, root=root))
        return shards

    # ---- reading ------------------------------------------------------------------------

    def read(self, shard: Shard, counts: ReaderCounts) -> Iterator[pa.Table]:
        builder = BatchBuilder(shard.source, shard.name, self.batch_docs, self.batch_bytes)
        archive_problem = None if shard.members else input_problem(shard.paths[0])
        if archive_problem is not None:
            counts["records"] += 1
            counts.skip(f"{self.format}:{archive_problem}", shard.paths[0], 0)
            documents = iter(())
        elif shard.members:
            documents = self._tree_documents(shard, counts)
        elif shard.paths[0].lower().endswith(".zip"):
            documents = self._zip_documents(shard.paths[0], counts)
        else:
            documents = self._tar_documents(shard.paths[0], counts)
        for ordinal, relative, text, meta in documents:
            batch = builder.add(ordinal, text, relative, meta)
            if batch is not None:
                yield batch
        batch = builder.flush()
        if batch is not None:
            yield batch

    def _tree_documents(
        self, shard: Shard, counts: ReaderCounts
    ) -> Iterator[tuple[int, str, str, dict[str, Any]]]:
        fs, _ = url_to_fs(shard.paths[0])
        local = isinstance(fs, LocalFileSystem)
        licenses = self._tree_licenses(fs, shard.root, shard.members)
        for ordinal, (url, relative) in enumerate(zip(shard.paths, shard.members, strict=True)):
            counts["records"] += 1
            if local and os.path.islink(url):
                counts.skip(f"{self.format}:unsafe_path", url, ordinal, relative)
                continue
            result = input_problem(url)
            if result is None:
                loader = _file_loader(fs, url, self.max_bytes)
                try:
                    result = self._examine(relative, None, loader, licenses)
                except OSError:  # lost its permissions, or vanished, since the check
                    result = "unreadable"
            if isinstance(result, str):
                counts.skip(f"{self.format}:{result}", url, ordinal, relative)
            else:
                yield ordinal, relative, *result

    def _tree_licenses(
        self, fs: fsspec.AbstractFileSystem, root: str, members: tuple[str, ...]
    ) -> LicenseIndex:
        """Licences of the folders above the shard's files (listed, not taken from the shard,
        so that every shard of a tree sees the same licence files)."""
        folders: set[str] = set()
        for relative in members:
            if self._vendored(relative):
                continue
            folder = posixpath.dirname(relative)
            while folder not in folders:
                folders.add(folder)
                if not folder:
                    break
                folder = posixpath.dirname(folder)
        index = LicenseIndex()
        for folder in sorted(folders):
            path = posixpath.join(root, folder) if folder else root
            try:
                entries = fs.ls(path, detail=True)
            except OSError:  # missing, not a folder, or unreadable (counted as a member)
                continue
            found = []
            for entry in sorted(entries, key=lambda e: e["name"]):
                if entry.get("type") == "file" and is_license_file(entry["name"]):
                    try:
                        data = _file_loader(fs, entry["name"], self.max_bytes)()
                    except OSError:  # an unreadable licence file is counted as a member
                        continue
                    if data is not None:
                        found.append(identify_license(data.decode("utf-8", "replace")))
            index.add(folder, found)
        return index

    def _tar_documents(
        self, url: str, counts: ReaderCounts
    ) -> Iterator[tuple[int, str, str, dict[str, Any]]]:
        licenses = self._tar_licenses(url)
        ordinal = 0
        with ExitStack() as stack:
            try:
                tar = _open_tar(url, stack)
            except _TAR_ERRORS:
                tar = None
            while tar is not None:
                try:
                    member = tar.next()
                except _TAR_ERRORS:
                    member = None
                    tar = None
                if member is None:
                    break
                tar.members = []  # stream mode would keep every TarInfo otherwise
                if member.isdir():
                    continue
                counts["records"] += 1
                relative = _clean_member_path(member.name)
                if relative is None or not member.isreg():
                    counts.skip(f"{self.format}:unsafe_path", url, ordinal, member.name)
                    ordinal += 1
                    continue
                try:
                    loader = _tar_loader(tar, member, self.max_bytes)
                    result = self._examine(relative, member.size, loader, licenses)
                except _TAR_ERRORS:  # the member itself is the record lost
                    counts.skip(f"{self.format}:corrupt_archive", url, ordinal, relative)
                    return
                if isinstance(result, str):
                    counts.skip(f"{self.format}:{result}", url, ordinal, relative)
                else:
                    yield ordinal, relative, *result
                ordinal += 1
            if tar is None:  # the archive could not be opened or read on
                counts["records"] += 1
                counts.skip(f"{self.format}:corrupt_archive", url, ordinal)

    def _tar_licenses(self, url: str) -> LicenseIndex:
        """First pass over a tar stream: identify its licence files only."""
        by_folder: dict[str, list[str]] = {}
        try:
            with ExitStack() as stack:
                tar = _open_tar(url, stack)
                while (member := tar.next()) is not None:
                    tar.members = []
                    relative = _clean_member_path(member.name)
                    if relative is None or not member.isreg() or member.size > self.max_bytes:
                        continue
                    if is_license_file(relative) and not self._vendored(relative):
                        data = _tar_loader(tar, member, self.max_bytes)()
                        if data is not None:
                            license_id = identify_license(data.decode("utf-8", "replace"))
                            folder = posixpath.dirname(relative)
                            by_folder.setdefault(folder, []).append(license_id)
        except _TAR_ERRORS:
            pass  # the second pass counts the damage
        return LicenseIndex(by_folder)

    def _zip_documents(
        self, url: str, counts: ReaderCounts
    ) -> Iterator[tuple[int, str, str, dict[str, Any]]]:
        with open_url(url, "rb") as raw:
            try:
                archive = zipfile.ZipFile(raw)
            except _ZIP_ERRORS:
                counts["records"] += 1
                counts.skip(f"{self.format}:corrupt_archive", url, 0)
                return
            with archive:
                entries = [info for info in archive.infolist() if not info.is_dir()]
                licenses = self._zip_licenses(archive, entries)
                for ordinal, info in enumerate(entries):
                    counts["records"] += 1
                    relative = _clean_member_path(info.filename)
                    file_type = (info.external_attr >> 16) & _ZIP_TYPE_MASK
                    if relative is None or file_type not in (0, _ZIP_REGULAR):
                        counts.skip(f"{self.format}:unsafe_path", url, ordinal, info.filename)
                        continue
                    if info.flag_bits & 0x1:
                        counts.skip(f"{self.format}:encrypted", url, ordinal, relative)
                        continue
                    try:
                        loader = _zip_loader(archive, info, self.max_bytes)
                        result = self._examine(relative, info.file_size, loader, licenses)
                    except _ZIP_ERRORS:
                        result = "corrupt_archive"
                    if isinstance(result, str):
                        counts.skip(f"{self.format}:{result}", url, ordinal, relative)
                    else:
                        yield ordinal, relative, *result

    def _zip_licenses(
        self, archive: zipfile.ZipFile, entries: list[zipfile.ZipInfo]
    ) -> LicenseIndex:
        by_folder: dict[str, list[str]] = {}
        for info in entries:
            relative = _clean_member_path(info.filename)
            if relative is None or not is_license_file(relative) or self._vendored(relative):
                continue
            if info.flag_bits & 0x1 or info.file_size > self.max_bytes:
                continue
            try:
                data = _zip_loader(archive, info, self.max_bytes)()
            except _ZIP_ERRORS:
                continue
            if data is not None:
                license_id = identify_license(data.decode("utf-8", "replace"))
                by_folder.setdefault(posixpath.dirname(relative), []).append(license_id)
        return LicenseIndex(by_folder)

    # ---- one file -----------------------------------------------------------------------

    def _examine(
        self, relative: str, size: int | None, load: Loader, licenses: LicenseIndex
    ) -> tuple[str, dict[str, Any]] | str:
        """``(text, meta)`` of one file, or the reason it is skipped (see module doc)."""
        if self._vendored(relative):
            return "vendored"
        language = license_document_language(relative) or language_from_path(relative)
        if language is None and has_extension(relative):
            if not self.keep_unknown:
                return "unknown_language"
        elif language is not None and not self._language_wanted(language):
            return "excluded_language"
        if self.skip_generated and _generated_name(relative):
            return "generated"
        if size is not None and size > self.max_bytes:
            return "oversized"
        data = load()
        if data is None:
            return "oversized"
        if b"\x00" in data[:BINARY_SNIFF_BYTES]:
            return "binary"
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return "undecodable"
        if not text or text.isspace():
            return "empty"
        if language is None and not has_extension(relative):
            language = language_from_shebang(data[:128])
            if language is None and not self.keep_unknown:
                return "unknown_language"
            if language is not None and not self._language_wanted(language):
                return "excluded_language"
        if self.skip_generated and not is_template(relative) and _generated_header(text):
            return "generated"
        if self._minified(text, language):
            return "minified"
        return text, self._meta(relative, language, licenses)

    def _language_wanted(self, language: str) -> bool:
        return self.languages is None or language in self.languages

    def _vendored(self, relative: str) -> bool:
        folders = relative.split("/")[:-1]
        return any(folder in self.vendored_dirs for folder in folders)

    def _minified(self, text: str, language: str | None) -> bool:
        """The Stack's mean-line-length test, and a share of long lines (over
        ``max_line_length``) above ``max_long_line_fraction``; prose, whose paragraphs are
        single lines, faces the second only. One long line (a test's data literal) in a
        hand-written file is not minification."""
        lines = text.split("\n")
        long_lines = sum(len(line) > self.max_line_length for line in lines)
        if long_lines > self.max_long_line_fraction * len(lines):
            return True
        if language in PROSE_LANGUAGES:
            return False
        return len(text) / len(lines) > self.max_mean_line_length

    def _meta(self, relative: str, language: str | None, licenses: LicenseIndex) -> dict[str, Any]:
        parts = relative.split("/")
        has_repo = self.repo_depth > 0 and len(parts) > self.repo_depth
        meta: dict[str, Any] = {
            "language": language,
            "path": "/".join(parts[self.repo_depth :]) if has_repo else relative,
        }
        if has_repo:
            meta["repo"] = "/".join(parts[: self.repo_depth])
        license_id = licenses.license_of(relative)
        if license_id is not None:
            meta["license"] = license_id
        if license_document_language(relative) is not None:
            meta["is_license"] = True
        return meta


def _clean_member_path(name: str) -> str | None:
    """An archive member's path relative to the archive root, or None if it could escape."""
    path = name.replace("\\", "/")
    if path.startswith("/") or _DRIVE.match(path):
        return None
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def _generated_name(relative: str) -> bool:
    name = posixpath.basename(relative).lower()
    return name in GENERATED_FILE_NAMES or _GENERATED_NAME.fullmatch(name) is not None


def _generated_header(text: str) -> bool:
    return has_generator_signature(text)


def _file_loader(fs: fsspec.AbstractFileSystem, path: str, max_bytes: int) -> Loader:
    def load() -> bytes | None:
        with fs.open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
        return None if len(data) > max_bytes else data

    return load


def _tar_loader(tar: tarfile.TarFile, member: tarfile.TarInfo, max_bytes: int) -> Loader:
    def load() -> bytes | None:
        handle = tar.extractfile(member)
        if handle is None:
            return None
        data = handle.read(max_bytes + 1)
        if len(data) < min(member.size, max_bytes + 1):
            raise tarfile.ReadError(f"{member.name}: unexpected end of data")
        return None if len(data) > max_bytes else data

    return load


def _zip_loader(archive: zipfile.ZipFile, info: zipfile.ZipInfo, max_bytes: int) -> Loader:
    def load() -> bytes | None:
        with archive.open(info) as handle:  # reads and CRC-checks what the header claims
            data = handle.read(max_bytes + 1)
        return None if len(data) > max_bytes else data

    return load


def _open_tar(url: str, stack: ExitStack) -> tarfile.TarFile:
    """A tar archive opened as a forward-only stream, decompressed by its suffix.

    Decompression is :mod:`gristmill.io.compression`'s, not tarfile's: tarfile's stream
    mode ends quietly where a ``.tar.gz`` is cut, where ours raises.
    """
    stream = stack.enter_context(open_decompressed(url))
    return stack.enter_context(tarfile.open(fileobj=stream, mode="r|"))
