"""A demo corpus built from the local Python installation, so the demo needs no download.

- **web**: pydoc-rendered HTML pages of standard-library modules, served as HTTP responses
  in real gzip WARC files, with the request, revisit, image and warcinfo records a crawl has.
- **code**: standard-library packages as tar.gz archives, with the Python license file.
- **books**: long documentation prose (pydoc plain-text pages) as Project Gutenberg-style
  books, some in Latin-1 with CRLF line endings, one an exact copy of another and one a
  revised edition of another (a near-duplicate for MinHash).
- **benchmarks**: a few standard-library docstrings as a stand-in evaluation set, which the
  web pages and books contain (so decontamination has something to find).

The corpus is deterministic: the same Python installation gives the same bytes.
"""

from __future__ import annotations

import gzip
import importlib
import inspect
import io
import json
import pydoc
import re
import shutil
import sys
import sysconfig
import tarfile
import uuid
from pathlib import Path

from gristmill.pipelines.presets import preset_path

WEB_MODULES = (
    "argparse", "base64", "bisect", "calendar", "collections", "csv", "dataclasses",
    "datetime", "decimal", "difflib", "enum", "fractions", "functools", "gzip", "heapq",
    "hashlib", "inspect", "ipaddress", "itertools", "json", "logging", "pathlib", "pickle",
    "pprint", "queue", "random", "re", "sched", "shlex", "shutil", "statistics", "string",
    "tarfile", "textwrap", "threading", "timeit", "typing", "uuid", "zipfile", "zlib",
)  # fmt: skip
CODE_PACKAGES = (("stdlib-a", ("json", "email", "html", "http")), ("stdlib-b", ("urllib", "logging", "concurrent", "importlib")))  # fmt: skip
BOOK_MODULES = ("argparse", "collections", "typing", "logging", "unittest", "pathlib", "decimal", "email.message")  # fmt: skip
_FIXED_DATE = "2024-01-01T00:00:00Z"


def prepare_demo(out: Path) -> Path:
    """Write ``out/corpus`` and ``out/pipeline.yaml``; returns the config path."""
    corpus = out / "corpus"
    if corpus.exists():
        shutil.rmtree(corpus)
    build_web(corpus / "web")
    build_code(corpus / "code")
    build_books(corpus / "books")
    build_benchmark(corpus / "benchmarks")
    config = out / "pipeline.yaml"
    shutil.copyfile(preset_path("demo"), config)
    build_language_model(config, out / "lm")
    return config


def build_language_model(config: Path, model_dir: Path) -> None:
    """The perplexity stage's reference model, CCNet style: SentencePiece + a 5-gram
    Kneser-Ney model trained on the books source (CCNet used Wikipedia), with bucket
    cut-offs at the 30th/60th percentiles of the raw web pages' perplexities."""
    from gristmill.pipelines.source_texts import raw_source_texts
    from gristmill.training.language_model import (
        perplexity_cutoffs,
        save_cutoffs,
        train_language_model,
    )

    if model_dir.exists():
        shutil.rmtree(model_dir)
    model = train_language_model(
        raw_source_texts(str(config), "books"), model_dir, vocab_size=4000, estimator="builtin"
    )
    cutoffs = perplexity_cutoffs(raw_source_texts(str(config), "web"), model.model, model.tokenizer)
    save_cutoffs(model_dir, "en", cutoffs)


#: Docstrings that also appear in the demo's web pages and books: a stand-in evaluation set
#: the decontamination stage must find (like a GSM8K question copied into a web page).
BENCHMARK_OBJECTS = (
    "textwrap.dedent",
    "json.dumps",
    "collections.Counter.most_common",
    "textwrap.wrap",
)


def build_benchmark(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for number, dotted in enumerate(BENCHMARK_OBJECTS):
        module_name, *attributes = dotted.split(".")
        value = importlib.import_module(module_name)
        for attribute in attributes:
            value = getattr(value, attribute)
        text = inspect.getdoc(value) or ""
        lines.append(json.dumps({"id": f"stdlib/{number}", "text": text}))
    (folder / "stdlib_doc_eval.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _record(kind: str, headers: dict[str, str], payload: bytes) -> bytes:
    lines = ["WARC/1.0", f"WARC-Type: {kind}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(payload)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
    member = io.BytesIO()
    with gzip.GzipFile(fileobj=member, mode="wb", mtime=0) as handle:
        handle.write(head + payload + b"\r\n\r\n")
    return member.getvalue()


def _record_id(seed: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, seed)}>"


def _http_response(body: bytes, content_type: str) -> bytes:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode("ascii") + body


#: ``object at 0x7f…`` in a repr: the address changes from process to process
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _pydoc_html(module_name: str) -> str:
    """The module's pydoc page, with object addresses left out of the reprs it shows, so the
    same installation gives the same page in every process."""
    module = importlib.import_module(module_name)
    renderer = pydoc.HTMLDoc()
    page = renderer.page(pydoc.describe(module), renderer.document(module, module_name))
    return _ADDRESS.sub("", page)


def build_web(folder: Path, files: int = 2) -> None:
    """pydoc HTML pages as a crawl: warcinfo, request/response pairs, a revisit, an image,
    and one page crawled twice under two URLs (an exact duplicate for dedup)."""
    folder.mkdir(parents=True, exist_ok=True)
    per_file = -(-len(WEB_MODULES) // files)
    for part in range(files):
        records = [
            _record(
                "warcinfo",
                {"WARC-Date": _FIXED_DATE, "WARC-Record-ID": _record_id(f"info{part}"),
                 "Content-Type": "application/warc-fields"},
                b"software: gristmill-demo\r\nformat: WARC File Format 1.0\r\n",
            )
        ]  # fmt: skip
        modules = WEB_MODULES[part * per_file : (part + 1) * per_file]
        bodies = {}
        for name in modules:
            url = f"https://docs.example.org/library/{name}.html"
            body = bodies[name] = _pydoc_html(name).encode("utf-8")
            records.append(_record(
                "request",
                {"WARC-Date": _FIXED_DATE, "WARC-Record-ID": _record_id(url + "#request"),
                 "WARC-Target-URI": url, "Content-Type": "application/http; msgtype=request"},
                f"GET /library/{name}.html HTTP/1.1\r\nHost: docs.example.org\r\n\r\n".encode(),
            ))  # fmt: skip
            records.append(_record(
                "response",
                {"WARC-Date": _FIXED_DATE, "WARC-Record-ID": _record_id(url),
                 "WARC-Target-URI": url, "Content-Type": "application/http; msgtype=response"},
                _http_response(body, "text/html; charset=utf-8"),
            ))  # fmt: skip
        mirror = f"https://mirror.example.net/py/{modules[0]}.html"
        records.append(_record(
            "response",
            {"WARC-Date": _FIXED_DATE, "WARC-Record-ID": _record_id(mirror),
             "WARC-Target-URI": mirror, "Content-Type": "application/http; msgtype=response"},
            # the very bytes served at the first URL: a page rendered twice may differ (the
            # logging page shows logging.shutdown's default, the list of live handlers)
            _http_response(bodies[modules[0]], "text/html; charset=utf-8"),
        ))  # fmt: skip
        revisit = f"https://docs.example.org/library/{modules[1]}.html"
        records.append(_record(
            "revisit",
            {"WARC-Date": _FIXED_DATE, "WARC-Record-ID": _record_id(revisit + "#revisit"),
             "WARC-Target-URI": revisit,
             "WARC-Profile": "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest",
             "Content-Type": "application/http; msgtype=response"},
            b"HTTP/1.1 304 Not Modified\r\n\r\n",
        ))  # fmt: skip
        logo = "https://docs.example.org/static/logo.png"
        png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
        records.append(_record(
            "response",
            {"WARC-Date": _FIXED_DATE, "WARC-Record-ID": _record_id(logo + str(part)),
             "WARC-Target-URI": logo, "Content-Type": "application/http; msgtype=response"},
            _http_response(png, "image/png"),
        ))  # fmt: skip
        (folder / f"crawl-{part:05d}.warc.gz").write_bytes(b"".join(records))


def _stdlib_dir() -> Path:
    return Path(sysconfig.get_paths()["stdlib"])


def build_code(folder: Path) -> None:
    """Standard-library packages as tar.gz archives, each with the Python license."""
    folder.mkdir(parents=True, exist_ok=True)
    stdlib = _stdlib_dir()
    license_file = next(
        (p for p in (stdlib / "LICENSE.txt", Path(sys.base_prefix) / "LICENSE.txt") if p.exists()),
        None,
    )
    for archive, packages in CODE_PACKAGES:
        target = folder / f"{archive}.tar.gz"
        with (
            open(target, "wb") as raw,
            gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as zipped,
            tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
        ):
            members: list[tuple[str, Path]] = []
            if license_file is not None:
                members.append((f"{archive}/LICENSE", license_file))
            for package in packages:
                root = stdlib / package
                for path in sorted(root.rglob("*.py")):
                    if "__pycache__" not in path.parts and "test" not in path.parts:
                        members.append((f"{archive}/{path.relative_to(stdlib)}", path))
            for name, path in members:
                data = path.read_bytes()
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mtime = 0
                info.mode = 0o644
                tar.addfile(info, io.BytesIO(data))


def build_books(folder: Path) -> None:
    """Documentation prose as Gutenberg-style books; every third in Latin-1 with CRLF."""
    folder.mkdir(parents=True, exist_ok=True)
    for number, module_name in enumerate(BOOK_MODULES, start=1):
        module = importlib.import_module(module_name)
        body = pydoc.render_doc(module, renderer=pydoc.plaintext)
        title = f"The {module_name} Manual"
        text = (
            f"The Project Gutenberg eBook of {title}\n\n"
            "This ebook is for the use of anyone anywhere at no cost.\n\n"
            f"Title: {title}\n\nAuthor: The Python Developers\n\nLanguage: English\n\n"
            f"*** START OF THE PROJECT GUTENBERG EBOOK {title.upper()} ***\n\n"
            f"{body}\n\n"
            f"*** END OF THE PROJECT GUTENBERG EBOOK {title.upper()} ***\n\n"
            "Updated editions will replace the previous one.\n"
        )
        if number % 3 == 0:
            data = text.replace("\n", "\r\n").encode("latin-1", errors="replace")
        else:
            data = text.encode("utf-8")
        (folder / f"book-{number:03d}.txt").write_bytes(data)
    # a second copy of the first book under another name: an exact duplicate
    shutil.copyfile(folder / "book-001.txt", folder / "book-101.txt")
    # a revised edition of the second book, a few lines changed: a near-duplicate
    revised = (folder / "book-002.txt").read_text(encoding="utf-8").splitlines()
    for line in range(40, len(revised), 150):
        revised[line] = revised[line] + " (revised)"
    (folder / "book-102.txt").write_text("\n".join(revised) + "\n", encoding="utf-8")
