"""Fuzz tier for the readers (issue 16): ``make fuzz``, or ``python -m tests.fuzz_readers``.

Not part of ``make test``: every reader gets randomly truncated, bit-flipped, spliced and
(for WARC/WET) length-edited inputs built from ``../shared/data`` (when present) and from the
test fixtures, and each case checks what a run relies on:

- no crash: the reader raises nothing, whatever the bytes;
- no hang: each case runs in a forked child process with a generous time limit (a guard
  against a hang, not a timing assertion);
- accounting: ``records == documents + skips``, one recorded skip (a ``rejected/`` row) per
  counted skip, and no id shared by two documents or by a document and a skip;
- no kept document holds WARC, ARC or HTTP header lines, or a run of U+FFFD, that the clean
  input's documents do not hold;
- inputs whose format checks its content (gzip, bz2, xz, zstd with a checksum), when
  truncated or bit-flipped, keep only documents that the clean input gives too: garbage
  from a damaged span is never kept. Plain text, plain WARC without digests and Parquet
  pages carry no checksum, so flipped bytes there cannot be told from content.

Cases are reproducible: case ``k`` of seed ``s`` always builds the same input. A failure
prints the case, the mutation and what broke; the summary line is ``FUZZ cases=N failures=F``.
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import io
import json
import lzma
import multiprocessing
import os
import random
import re
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from gristmill.documents import DOC_SCHEMA
from gristmill.io.base import Reader, ReaderCounts
from gristmill.io.books import BookReader
from gristmill.io.code import CodeReader
from gristmill.io.columnar import ArrowReader, ParquetReader
from gristmill.io.jsonl import JsonlReader
from gristmill.io.warc import WarcReader
from gristmill.io.wet import WetReader

SHARED_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
CASE_TIMEOUT_S = 120
HEADER_LINE = re.compile(
    r"(?m)^(?:WARC/\d+\.\d+\r?$|WARC-(?:Type|Record-ID|Target-URI|Date):|HTTP/1\.[01] \d{3} "
    r"|\S+ \S+ \d{14} \S+ \d+\r?$)"  # the last: an ARC header line
)
REPLACEMENT_RUN = re.compile("\ufffd{4,}")
READERS: dict[str, Callable[[], Reader]] = {
    "warc": WarcReader,
    "wet": WetReader,
    "jsonl": JsonlReader,
    "books": BookReader,
    "code": CodeReader,
    "parquet": ParquetReader,
    "arrow": ArrowReader,
}
CHECKED_SUFFIXES = (".gz", ".bz2", ".xz", ".zst")


@dataclass(frozen=True)
class Seed:
    """A clean input: its reader, the file name it is read under, and its bytes."""

    reader: str
    name: str
    data: bytes

    @property
    def checked(self) -> bool:
        """Its format detects changed bytes (so garbage must never be kept)."""
        return self.name.endswith(CHECKED_SUFFIXES) and not self.name.endswith(".arc.gz")


# -- seeds ----------------------------------------------------------------------------------
def build_seeds(shared: Path | None) -> list[Seed]:
    seeds = fixture_seeds()
    if shared is not None and shared.is_dir():
        seeds += shared_seeds(shared)
    return seeds


def fixture_seeds() -> list[Seed]:
    from tests.test_io_warc import arc_file, crawl_records, gzip_member, wet_records

    crawl = crawl_records()
    wet = wet_records()
    lines = [json.dumps({"text": f"Fixture document {i} about mills and rivers.", "url": f"u{i}"}) for i in range(200)]  # fmt: skip
    jsonl = ("\n".join(lines) + "\n").encode()
    return [
        Seed("warc", "crawl.warc", b"".join(crawl)),
        Seed("warc", "crawl.warc.gz", b"".join(map(gzip_member, crawl))),
        Seed("warc", "mills.arc.gz", arc_file()),
        Seed("warc", "mills.arc", gzip.decompress(arc_file())),
        Seed("wet", "crawl.warc.wet", b"".join(wet)),
        Seed("wet", "crawl.warc.wet.gz", b"".join(map(gzip_member, wet))),
        *jsonl_seeds("fixture", jsonl),
        *columnar_seeds("fixture", jsonl),
    ]


def jsonl_seeds(stem: str, data: bytes) -> list[Seed]:
    return [
        Seed("jsonl", f"{stem}.jsonl", data),
        Seed("jsonl", f"{stem}.jsonl.gz", gzip.compress(data, mtime=0)),
        Seed("jsonl", f"{stem}.jsonl.bz2", bz2.compress(data)),
        Seed("jsonl", f"{stem}.jsonl.xz", lzma.compress(data)),
        Seed(
            "jsonl",
            f"{stem}.jsonl.zst",
            zstandard.ZstdCompressor(write_checksum=True).compress(data),
        ),  # fmt: skip
    ]


def columnar_seeds(stem: str, jsonl: bytes) -> list[Seed]:
    rows = [json.loads(line) for line in jsonl.splitlines() if line.strip()]
    table = pa.Table.from_pylist([{"text": r.get("text"), "url": r.get("url")} for r in rows])
    parquet, arrow = io.BytesIO(), io.BytesIO()
    pq.write_table(table, parquet, row_group_size=50)
    with pa.ipc.new_file(arrow, table.schema) as writer:
        writer.write_table(table, max_chunksize=50)
    return [
        Seed("parquet", f"{stem}.parquet", parquet.getvalue()),
        Seed("arrow", f"{stem}.arrow", arrow.getvalue()),
    ]


def shared_seeds(shared: Path) -> list[Seed]:
    seeds: list[Seed] = []
    web = shared / "web"
    for path in sorted((web / "warc").glob("*/*")):
        if path.suffix in (".gz", ".warc") and ".wat" not in path.name and path.stat().st_size < 300_000:  # fmt: skip
            seeds.append(Seed("warc", path.name, path.read_bytes()))
            if path.name.endswith((".warc.gz", ".arc.gz")):  # the same records, uncompressed
                seeds.append(Seed("warc", path.name[:-3], gzip.decompress(path.read_bytes())))
    for path in sorted((web / "wet").glob("*/*wet*")):
        seeds.append(Seed("wet", path.name, path.read_bytes()))
    head = sorted((web / "jsonl").glob("*/cc_en_head-*.jsonl"))
    if head:
        data = b"".join(head[0].read_bytes().splitlines(keepends=True)[:60])
        seeds += jsonl_seeds("cc_head", data) + columnar_seeds("cc_head", data)
    books = sorted((shared / "books" / "gutenberg").glob("*.txt"))[:3]
    for path in books:
        data = path.read_bytes()[:120_000]
        seeds.append(Seed("books", path.name, data))
        seeds.append(Seed("books", path.name + ".gz", gzip.compress(data, mtime=0)))
        seeds.append(Seed("books", path.name + ".bz2", bz2.compress(data)))
    code_files = sorted(p for p in (shared / "code" / "repos").rglob("*") if p.is_file())[:60]
    if code_files:
        root = shared / "code" / "repos"
        seeds += code_seeds({str(p.relative_to(root)): p.read_bytes()[:20_000] for p in code_files})
    return seeds


def code_seeds(files: dict[str, bytes]) -> list[Seed]:
    tar_buffer = io.BytesIO()
    with tarfile.open(fileobj=tar_buffer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    zip_buffer = io.BytesIO()
    with zipfile.ZipFile(zip_buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    tar = tar_buffer.getvalue()
    return [
        Seed("code", "repos.tar", tar),
        Seed("code", "repos.tar.gz", gzip.compress(tar, mtime=0)),
        Seed("code", "repos.zip", zip_buffer.getvalue()),
    ]


# -- mutations --------------------------------------------------------------------------------
def truncate(data: bytes, rnd: random.Random, _: list[Seed]) -> bytes:
    return data[: rnd.randrange(len(data))] if data else data


def bitflip(data: bytes, rnd: random.Random, _: list[Seed]) -> bytes:
    mutable = bytearray(data)
    if not mutable:
        return data
    if rnd.random() < 0.5:
        for _ in range(rnd.randint(1, 8)):
            mutable[rnd.randrange(len(mutable))] ^= 1 << rnd.randrange(8)
    else:
        start = rnd.randrange(len(mutable))
        for index in range(start, min(len(mutable), start + rnd.randint(1, 64))):
            mutable[index] ^= 0xFF
    return bytes(mutable)


def splice(data: bytes, rnd: random.Random, donors: list[Seed]) -> bytes:
    donor = rnd.choice(donors).data
    if not data or not donor:
        return data + donor
    start = rnd.randrange(len(donor))
    piece = donor[start : start + rnd.randint(1, 64 * 1024)]
    cut = rnd.randrange(len(data))
    resume = min(len(data), cut + rnd.choice([0, 0, rnd.randint(1, 4096)]))
    return data[:cut] + piece + data[resume:]


def edit_length(data: bytes, rnd: random.Random, donors: list[Seed]) -> bytes:
    """Change one WARC Content-Length or ARC header length (an overrun or underrun, by a
    little or by 2 GB)."""
    lengths = list(re.finditer(rb"Content-Length: (\d+)|\d{14} \S+ (\d+)\n", data))
    if not lengths:
        return bitflip(data, rnd, donors)
    match = rnd.choice(lengths)
    group = 1 if match.group(1) is not None else 2
    value = int(match.group(group))
    new = rnd.choice([value + rnd.randint(1, 6000), max(0, value - rnd.randint(1, 500)), 2_000_000_000])  # fmt: skip
    return data[: match.start(group)] + str(new).encode() + data[match.end(group) :]


MUTATIONS: dict[str, Callable[[bytes, random.Random, list[Seed]], bytes]] = {
    "truncate": truncate,
    "bitflip": bitflip,
    "splice": splice,
    "edit_length": edit_length,
}


# -- one case ---------------------------------------------------------------------------------
def read_all(reader_name: str, path: Path) -> tuple[list[dict[str, Any]], ReaderCounts]:
    reader = READERS[reader_name]()
    counts = ReaderCounts(record_skips=True)
    documents = []
    for shard in reader.shards("fuzz", [str(path)]):
        for batch in reader.read(shard, counts):
            assert batch.schema.equals(DOC_SCHEMA), batch.schema
            documents += batch.select(["id", "text"]).to_pylist()
    return documents, counts


def check_case(
    seed: Seed, mutation: str, data: bytes, baseline: set[str], folder: Path
) -> list[str]:
    """What broke when reading ``data`` as ``seed`` (an empty list: nothing)."""
    path = folder / seed.name
    path.write_bytes(data)
    try:
        documents, counts = read_all(seed.reader, path)
    except Exception as error:  # a crash of the run is what the fuzz looks for
        return [f"crash: {type(error).__name__}: {error}"]
    problems = []
    skips = sum(value for key, value in counts.items() if key != "records")
    if counts["records"] != len(documents) + skips:
        problems.append(f"accounting: records={counts['records']} docs={len(documents)} skips={skips}")  # fmt: skip
    if len(counts.skipped) != skips:
        problems.append(f"rejected rows: {len(counts.skipped)} recorded for {skips} skips")
    ids = [d["id"] for d in documents]
    ids += [f"fuzz/{r.ordinal}" for r in counts.skipped if r.ordinal is not None]
    ids = [i.rsplit("/", 1)[-1] for i in ids]
    if len(set(ids)) != len(ids):
        problems.append("an id is used twice (documents and skips)")
    for document in documents:
        text = document["text"]
        if text in baseline:
            continue
        if seed.reader in ("warc", "wet") and HEADER_LINE.search(text):
            problems.append(f"{document['id']}: kept WARC/HTTP header lines")
        if REPLACEMENT_RUN.search(text):
            problems.append(f"{document['id']}: kept a run of U+FFFD")
        if seed.checked and mutation in ("truncate", "bitflip"):
            problems.append(f"{document['id']}: kept a document the clean input does not give")
    return problems


def run_case(case: tuple[Seed, str, bytes, set[str]], results: Any) -> None:
    seed, mutation, data, baseline = case
    with tempfile.TemporaryDirectory(prefix="gristmill-fuzz-") as folder:
        results.send(check_case(seed, mutation, data, baseline, Path(folder)))


def guarded(case: tuple[Seed, str, bytes, set[str]], timeout_s: float) -> list[str]:
    """Run a case in a forked child; a child still running after ``timeout_s`` hangs."""
    receive, send = multiprocessing.Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(target=run_case, args=(case, send))
    child.start()
    send.close()
    if not receive.poll(timeout_s):
        child.kill()
        child.join()
        return [f"hang: no result after {timeout_s:.0f} s"]
    try:
        problems = receive.recv()
    except EOFError:
        problems = [f"child died (exit code {child.exitcode})"]
    child.join()
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=CASE_TIMEOUT_S)
    parser.add_argument("--shared-data", type=Path, default=SHARED_DATA)
    parser.add_argument("--reader", choices=sorted(READERS), help="fuzz only this reader")
    args = parser.parse_args(argv)
    seeds = build_seeds(args.shared_data)
    if args.reader:
        seeds = [seed for seed in seeds if seed.reader == args.reader]
    baselines: dict[str, set[str]] = {}
    with tempfile.TemporaryDirectory(prefix="gristmill-fuzz-") as folder:
        for seed in seeds:
            path = Path(folder) / seed.name
            path.write_bytes(seed.data)
            baselines[seed.name] = {d["text"] for d in read_all(seed.reader, path)[0]}
    print(f"fuzz: {len(seeds)} seed inputs, {args.cases} cases, seed {args.seed}", flush=True)
    failures = 0
    by_mutation: dict[str, int] = {}
    for index in range(args.cases):
        rnd = random.Random(f"{args.seed}/{index}")
        seed = rnd.choice(seeds)
        names = [m for m in MUTATIONS if m != "edit_length" or seed.reader in ("warc", "wet")]
        mutation = rnd.choice(names)
        donors = [s for s in seeds if s.reader == seed.reader]
        data = MUTATIONS[mutation](seed.data, rnd, donors)
        by_mutation[mutation] = by_mutation.get(mutation, 0) + 1
        problems = guarded((seed, mutation, data, baselines[seed.name]), args.timeout)
        if problems:
            failures += 1
            shown = "; ".join(sorted(set(problems))[:3])
            print(f"FAIL case {index} ({seed.reader} {seed.name} {mutation}): {shown}", flush=True)
    mix = " ".join(f"{name}={count}" for name, count in sorted(by_mutation.items()))
    print(f"FUZZ cases={args.cases} failures={failures} seeds={len(seeds)} {mix}")
    return 1 if failures else 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
