"""Hostile inputs for every reader (issue 16 D1, D6, D7, D8, D10 and its minor items; issue 15
item 3): each test builds the input that triggered the defect and checks the fix.

Unreadable files and folders: chmod 000 when the tests run as an ordinary user; as root,
where chmod does not stop reads, the same paths are made to raise PermissionError from the
system calls that list or open them (``os.scandir``, ``os.open``, ``open``).
"""

from __future__ import annotations

import builtins
import gzip
import hashlib
import io
import json
import os
import random
import threading
import zlib
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from gristmill.documents import DOC_SCHEMA
from gristmill.io.base import ReaderCounts
from gristmill.io.books import BookReader
from gristmill.io.code import CodeReader
from gristmill.io.columnar import ParquetReader
from gristmill.io.jsonl import JsonlReader
from gristmill.io.warc import WarcReader
from gristmill.io.wet import WetReader
from gristmill.io.writers import read_table
from gristmill.pipelines.segment import READ_STAGE, SegmentTask, run_segment
from tests.reader_checks import read_source
from tests.test_io_warc import HTTP, gzip_member, http_response, warc_record

#: a generous guard against a hang, not a timing assertion
HANG_GUARD_S = 60


def read_guarded(read: Callable[[], object]) -> object:
    """Run ``read`` in a thread; fail (instead of hanging the suite) if it never returns."""
    outcome: dict[str, object] = {}

    def target() -> None:
        try:
            outcome["value"] = read()
        except BaseException as error:  # re-raised in the test's thread
            outcome["error"] = error

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(HANG_GUARD_S)
    assert not worker.is_alive(), "the reader hangs"
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]


def page(words: str) -> bytes:
    return f"<html><body><p>{(words + ' ') * 20}</p></body></html>".encode()


# -- D1: FIFOs among the inputs ---------------------------------------------------------------
def test_fifo_in_a_code_tree_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "main.py").write_text("print('hello')\n")
    os.mkfifo(tmp_path / "repo" / "pipe.py")
    os.mkfifo(tmp_path / "repo" / "LICENSE")  # the licence scan must not open it either
    documents, counts, _ = read_guarded(lambda: read_source(CodeReader(), [str(tmp_path)]))
    assert [d["url"] for d in documents] == ["repo/main.py"]
    assert counts["code:not_a_file"] == 2


@pytest.mark.parametrize(
    ("reader", "name", "content"),
    [
        (JsonlReader(), "a.jsonl", b'{"text": "a good line"}\n'),
        (BookReader(), "a.txt", b"A short book about a mill.\n"),
        (ParquetReader(), "a.parquet", None),
        (WarcReader(), "a.warc", warc_record("response", 1, http_response(page("mill")), "http://m/1", **HTTP)),
    ],
)  # fmt: skip
def test_fifo_in_a_folder_and_a_glob(tmp_path: Path, reader, name: str, content) -> None:
    good = tmp_path / name
    if content is None:
        pq.write_table(pa.table({"text": ["a good row"]}), good)
    else:
        good.write_bytes(content)
    fifo = tmp_path / ("z" + name)
    os.mkfifo(fifo)
    for paths in ([str(tmp_path)], [str(tmp_path / "*")], [str(good), str(fifo)]):
        documents, counts, _ = read_guarded(lambda paths=paths: read_source(reader, paths))
        assert len(documents) == 1
        assert counts[f"{reader.format}:not_a_file"] == 1, (paths, dict(counts))


def test_device_file_named_as_input_is_not_read() -> None:
    documents, counts, _ = read_guarded(lambda: read_source(JsonlReader(), ["/dev/zero"]))
    assert documents == [] and dict(counts) == {"records": 1, "jsonl:not_a_file": 1}


# -- D10: unreadable files and folders ----------------------------------------------------------
def make_unreadable(monkeypatch: pytest.MonkeyPatch, *paths: Path) -> None:
    """chmod 000; as root (chmod does not stop root), make listing and opening them fail."""
    if os.geteuid() != 0:
        for path in paths:
            path.chmod(0)
        return
    blocked = {str(path) for path in paths}

    def denied(path: object) -> bool:
        return isinstance(path, str | os.PathLike) and os.fspath(path) in blocked

    real_scandir, real_listdir, real_os_open, real_open = (
        os.scandir, os.listdir, os.open, builtins.open,
    )  # fmt: skip

    def guard(real: Callable) -> Callable:
        def call(path, *args, **kwargs):
            if denied(path):
                raise PermissionError(13, "Permission denied", os.fspath(path))
            return real(path, *args, **kwargs)

        return call

    monkeypatch.setattr(os, "scandir", guard(real_scandir))
    monkeypatch.setattr(os, "listdir", guard(real_listdir))
    monkeypatch.setattr(os, "open", guard(real_os_open))
    monkeypatch.setattr(builtins, "open", guard(real_open))


def test_unreadable_file_and_folder_in_a_code_tree(tmp_path, monkeypatch) -> None:
    repo = tmp_path / "repo"
    (repo / "locked").mkdir(parents=True)
    (repo / "locked" / "hidden.py").write_text("x = 1\n")
    (repo / "a.py").write_text("a = 1\n")
    (repo / "secret.py").write_text("s = 1\n")
    (repo / "z.py").write_text("z = 1\n")
    make_unreadable(monkeypatch, repo / "locked", repo / "secret.py")
    documents, counts, _ = read_source(CodeReader(), [str(tmp_path)])
    # the other files of the shard group are read; each unreadable path is counted once
    assert [d["url"] for d in documents] == ["repo/a.py", "repo/z.py"]
    assert counts["code:unreadable"] == 2
    skipped = ReaderCounts(record_skips=True)
    reader = CodeReader()
    for shard in reader.shards("code", [str(tmp_path)]):
        list(reader.read(shard, skipped))
    assert sorted(r.url for r in skipped.skipped) == ["repo/locked", "repo/secret.py"]


@pytest.mark.parametrize(("reader", "name"), [(JsonlReader(), "b.jsonl"), (BookReader(), "b.txt")])
def test_unreadable_file_in_a_folder(tmp_path, monkeypatch, reader, name: str) -> None:
    (tmp_path / ("a" + name[1:])).write_bytes(b'{"text": "readable"}\n')
    (tmp_path / name).write_bytes(b'{"text": "locked away"}\n')
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ("c" + name[1:])).write_bytes(b'{"text": "in a locked folder"}\n')
    make_unreadable(monkeypatch, tmp_path / name, tmp_path / "sub")
    documents, counts, _ = read_source(reader, [str(tmp_path)])
    assert len(documents) == 1
    assert counts[f"{reader.format}:unreadable"] == 2


# -- D6 and D7: WARC records whose Content-Length overruns ------------------------------------
def three_responses() -> list[bytes]:
    words = ["mill wheels and rivers", "wheat and flour", "windmill sails"]
    return [
        warc_record("response", i, http_response(page(w)), f"http://m/{i}", **HTTP)
        for i, w in enumerate(words)
    ]


def overrun(record: bytes, declared: int | None = None, by: int = 0) -> bytes:
    head, _, rest = record.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    length = int(next(line for line in lines if line.startswith(b"Content-Length:")).split()[1])
    new = declared if declared is not None else length + by
    lines = [b"Content-Length: %d" % new if line.startswith(b"Content-Length:") else line for line in lines]  # fmt: skip
    return b"\r\n".join(lines) + b"\r\n\r\n" + rest


@pytest.mark.parametrize("packing", ["plain", "per-record gzip"])
def test_overrun_record_is_corrupt_and_the_next_is_read_once(tmp_path, packing) -> None:
    records = three_responses()
    records[0] = overrun(records[0], by=5000)  # into record 1 and past it, into record 2
    records[1] = records[1]
    data = b"".join(records) if packing == "plain" else b"".join(map(gzip_member, records))
    path = tmp_path / ("over.warc" if packing == "plain" else "over.warc.gz")
    path.write_bytes(data)
    documents, counts = read_source(WarcReader(), [str(path)])[:2]
    assert counts["warc:corrupt_record"] == 1
    assert [d["url"] for d in documents] == ["http://m/1", "http://m/2"]
    for document in documents:
        assert "WARC/" not in document["text"] and "HTTP/1.1" not in document["text"]


def test_small_overrun_keeps_no_header_lines(tmp_path: Path) -> None:
    records = three_responses()
    records[0] = overrun(records[0], by=300)  # ends inside record 1's header block
    path = tmp_path / "small.warc"
    path.write_bytes(b"".join(records))
    documents, counts = read_source(WarcReader(), [str(path)])[:2]
    assert [d["url"] for d in documents] == ["http://m/1", "http://m/2"]
    assert all("WARC-" not in d["text"] for d in documents)


@pytest.mark.parametrize("packing", ["plain", "per-record gzip"])
def test_nothing_after_a_too_large_record_is_lost(tmp_path, packing) -> None:
    records = three_responses()
    records[0] = overrun(records[0], declared=2_000_000_000)
    data = b"".join(records) if packing == "plain" else b"".join(map(gzip_member, records))
    path = tmp_path / ("big.warc" if packing == "plain" else "big.warc.gz")
    path.write_bytes(data)
    documents, counts = read_source(WarcReader(), [str(path)])[:2]
    assert counts["warc:too_large"] == 1
    assert [d["url"] for d in documents] == ["http://m/1", "http://m/2"]


def test_wet_overrun(tmp_path: Path) -> None:
    texts = [f"Plain text of page {i} about mills." for i in range(3)]
    records = [
        warc_record("conversion", i, t.encode(), f"http://m/{i}", Content_Type="text/plain")
        for i, t in enumerate(texts)
    ]
    records[0] = overrun(records[0], by=200)
    path = tmp_path / "over.wet"
    path.write_bytes(b"".join(records))
    documents, counts = read_source(WetReader(), [str(path)])[:2]
    assert [d["text"] for d in documents] == texts[1:]
    assert counts["wet:corrupt_record"] == 1


def test_block_digest_mismatch_is_corrupt(tmp_path: Path) -> None:
    import base64

    records = []
    for i, words in enumerate(["first page of text", "second page of text"]):
        block = http_response(page(words))
        digest = "sha1:" + base64.b32encode(hashlib.sha1(block).digest()).decode()
        records.append(
            warc_record("response", i, block, f"http://m/{i}", **HTTP, WARC_Block_Digest=digest)
        )
    flipped = bytearray(records[0])
    flipped[-200:-136] = bytes(b ^ 0x5A for b in flipped[-200:-136])  # 64 bytes of the page
    path = tmp_path / "flipped.warc"
    path.write_bytes(bytes(flipped) + records[1])
    documents, counts = read_source(WarcReader(), [str(path)])[:2]
    assert [d["url"] for d in documents] == ["http://m/1"]
    assert counts["warc:corrupt_record"] == 1


# -- D8: damaged compressed streams --------------------------------------------------------------
def jsonl_lines(count: int) -> list[bytes]:
    rnd = random.Random(7)
    words = [
        "mill",
        "wheel",
        "grain",
        "flour",
        "hopper",
        "stone",
        "river",
        "sluice",
        "miller",
        "sack",
    ]
    return [
        json.dumps({"text": " ".join(rnd.choice(words) for _ in range(60)) + f" #{i}"}).encode()
        for i in range(count)
    ]


def test_flipped_bytes_in_jsonl_gz_keep_no_garbled_document(tmp_path: Path) -> None:
    lines = jsonl_lines(3000)
    packed = bytearray(gzip.compress(b"\n".join(lines) + b"\n", mtime=0))
    middle = len(packed) // 2
    packed[middle : middle + 64] = bytes(b ^ 0xFF for b in packed[middle : middle + 64])
    path = tmp_path / "flipped.jsonl.gz"
    path.write_bytes(bytes(packed))
    documents, counts = read_source(JsonlReader(), [str(path)])[:2]
    originals = {json.loads(line)["text"] for line in lines}
    assert all(d["text"] in originals for d in documents)
    # one gzip member: nothing of it can be trusted; the decoded lines are each counted
    assert documents == [] and counts["jsonl:corrupt_stream"] > 1


def test_damage_in_a_later_gzip_member_keeps_the_verified_members(tmp_path: Path) -> None:
    lines = jsonl_lines(400)
    members = [
        gzip.compress(b"\n".join(lines[i : i + 100]) + b"\n", mtime=0) for i in range(0, 400, 100)
    ]
    damaged = bytearray(members[2])
    damaged[len(damaged) // 2] ^= 0xFF
    path = tmp_path / "bgzip.jsonl.gz"
    path.write_bytes(members[0] + members[1] + bytes(damaged) + members[3])
    documents, counts = read_source(JsonlReader(), [str(path)])[:2]
    assert [d["text"] for d in documents] == [json.loads(line)["text"] for line in lines[:200]]
    assert counts["jsonl:corrupt_stream"] >= 1


def test_flipped_tar_gz_keeps_no_garbled_file(tmp_path: Path) -> None:
    import tarfile

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        rnd = random.Random(3)
        for i in range(40):
            data = "\n".join(f"value_{i}_{k} = {rnd.random()}" for k in range(300)).encode()
            info = tarfile.TarInfo(f"repo/m{i:02d}.py")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    packed = bytearray(gzip.compress(buffer.getvalue(), mtime=0))
    packed[len(packed) // 2] ^= 0x10
    path = tmp_path / "repo.tar.gz"
    path.write_bytes(bytes(packed))
    documents, counts = read_source(CodeReader(), [str(path)])[:2]
    assert documents == [] and counts["code:corrupt_archive"] == 1


# -- minor: invalid UTF-8 in a page that declares UTF-8 ------------------------------------------
def test_declared_utf8_with_a_bad_byte_is_repaired_not_mojibake(tmp_path: Path) -> None:
    body = "<html><body><p>Größere Mühlräder drehen sich langsam am Fluss. " * 5
    body = body.encode() + b"\xff</p></body></html>"
    run = (
        "<html><body><p>Größere Mühlräder am Fluss ".encode() + b"\xff" * 16 + b"</p></body></html>"
    )
    records = [
        warc_record("response", 0, http_response(body), "http://m/0", **HTTP),
        warc_record("response", 1, http_response(run), "http://m/1", **HTTP),
    ]
    path = tmp_path / "utf8.warc"
    path.write_bytes(b"".join(records))
    documents, counts = read_source(WarcReader(), [str(path)])[:2]
    (document,) = documents
    assert "Größere Mühlräder" in document["text"] and "Ã" not in document["text"]
    assert document["meta"]["utf8_replaced"] is True and document["meta"]["charset"] == "utf-8"
    assert counts["warc:invalid_utf8"] == 1  # a run of bad bytes: a damaged span


# -- issue 15 item 3: reader skips in rejected/ -------------------------------------------------
def test_read_stage_skips_are_written_to_rejected_without_text(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(b'{"text": "kept"}\nnot json\n{"text": ""}\n{"url": "u"}\n')
    reader = JsonlReader()
    (shard,) = reader.shards("web", [str(folder / "a.jsonl")])
    rejected = tmp_path / "rejected.parquet"
    task = SegmentTask(
        source="web", shard=shard, segment_index=0, reader=reader, input_url=None, apply=None,
        resolution_dir=None, stages=(), collect=None, signature_url=None, priority=0,
        output_url=str(tmp_path / "out.parquet"), output_format="parquet", keep_signals=False,
        rejected_urls={READ_STAGE: str(rejected)}, fingerprint="f",
    )  # fmt: skip
    record = run_segment(task)
    (read_stats,) = record["stages"]
    table = read_table(str(rejected))
    assert table.schema.names == [*DOC_SCHEMA.names, "reason"]
    rows = table.to_pylist()
    assert [(r["id"], r["reason"], r["text"]) for r in rows] == [
        ("web/a.jsonl/1", "jsonl:invalid_json", ""),
        ("web/a.jsonl/2", "jsonl:empty_text", ""),
        ("web/a.jsonl/3", "jsonl:missing_text", ""),
    ]
    assert all(json.loads(r["meta"])["path"] == str(folder / "a.jsonl") for r in rows)
    assert sum(read_stats["removed"].values()) == len(rows)
    assert read_stats["docs_in"] == read_stats["docs_out"] + len(rows)


def silent_flip(member: bytes) -> bytes:
    """``member`` with one byte of its deflate data changed so that it still decodes to its
    full length without a decoder error: only the CRC32 at its end tells."""
    for position in range(len(member) // 2, len(member) - 8):
        for mask in (0x01, 0x10, 0x80):
            damaged = bytearray(member)
            damaged[position] ^= mask
            decoder = zlib.decompressobj(31)
            try:
                out = decoder.decompress(bytes(damaged[:-8]))
                decoder.decompress(bytes(damaged[-8:]))
            except zlib.error as error:
                if "incorrect data check" in str(error) and out and out != gzip.decompress(member):
                    return bytes(damaged)
                continue
    raise AssertionError("no silent flip found")


def big_responses() -> list[bytes]:
    """Three pages whose gzip members are larger than one decoding step (16 KiB)."""
    rnd = random.Random(11)
    words = ["mill", "wheel", "grain", "flour", "hopper", "stone", "river", "sluice"]
    pages = [" ".join(rnd.choice(words) + str(rnd.randrange(999)) for _ in range(8_000)) for _ in range(3)]  # fmt: skip
    return [
        warc_record(
            "response",
            i,
            http_response(f"<html><body><p>{text}</p></body></html>".encode()),
            f"http://m/{i}",
            **HTTP,
        )  # fmt: skip
        for i, text in enumerate(pages)
    ]


def test_flipped_bytes_in_a_warc_gzip_member_keep_no_garbled_page(tmp_path: Path) -> None:
    records = big_responses()
    clean = {
        d["url"]: d["text"]
        for d in read_source(WarcReader(), [str(write_plain(tmp_path, records))])[0]
    }
    members = [gzip_member(record) for record in records]
    for name, data in (
        ("per-record", members[0] + silent_flip(members[1]) + members[2]),
        ("whole-file", silent_flip(gzip_member(b"".join(records)))),
    ):
        path = tmp_path / f"{name}.warc.gz"
        path.write_bytes(data)
        documents, counts = read_source(WarcReader(), [str(path)])[:2]
        assert all(clean[d["url"]] == d["text"] for d in documents), name
        assert counts["warc:corrupt_stream"] >= 1
    assert [
        d["url"] for d in read_source(WarcReader(), [str(tmp_path / "per-record.warc.gz")])[0]
    ] == ["http://m/0", "http://m/2"]


def write_plain(folder: Path, records: list[bytes]) -> Path:
    path = folder / "clean.warc"
    path.write_bytes(b"".join(records))
    return path


def test_wet_record_with_a_run_of_bad_bytes_is_skipped(tmp_path: Path) -> None:
    texts = [b"A clean page about mills.", b"Flipped: " + bytes(range(0xF8, 0x100)) + b" end", "Un moulin \xe0 eau.".encode() + b"\xff"]  # fmt: skip
    records = [
        warc_record("conversion", i, t, f"http://m/{i}", Content_Type="text/plain")
        for i, t in enumerate(texts)
    ]
    path = tmp_path / "runs.wet"
    path.write_bytes(b"".join(records))
    documents, counts = read_source(WetReader(), [str(path)])[:2]
    assert [d["url"] for d in documents] == ["http://m/0", "http://m/2"]  # a stray byte stays
    assert counts["wet:invalid_utf8"] == 1


def test_zip_with_a_name_flagged_utf8_that_is_not(tmp_path: Path) -> None:
    """Found by the fuzz tier: a flipped flag bit made zipfile raise UnicodeDecodeError."""
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("repo/café.py", "x = 1\n")  # a non-ASCII name: flagged UTF-8
        archive.writestr("repo/ok.py", "y = 2\n")
    data = buffer.getvalue().replace("café".encode(), b"caf\x9a\x9a")
    path = tmp_path / "names.zip"
    path.write_bytes(data)
    documents, counts = read_source(CodeReader(), [str(path)])[:2]
    assert counts["code:corrupt_archive"] == 1


def test_arrow_file_with_invalid_utf8_in_its_text_data(tmp_path: Path) -> None:
    """Found by the fuzz tier: Arrow IPC reading does not validate, so a flipped byte in a
    string buffer raised UnicodeDecodeError (and damaged offsets segfaulted) later on."""
    from gristmill.io.columnar import ArrowReader

    table = pa.table({"text": [f"arrow document number {i}" for i in range(100)]})
    buffer = io.BytesIO()
    with pa.ipc.new_file(buffer, table.schema) as writer:
        writer.write_table(table, max_chunksize=50)
    data = buffer.getvalue().replace(b"number 77", b"number \xff7")
    path = tmp_path / "flipped.arrow"
    path.write_bytes(data)
    documents, counts = read_source(ArrowReader(), [str(path)])[:2]
    assert len(documents) == 50  # the first batch; the damaged one is counted
    assert counts["arrow:corrupt_file"] == 1


def test_flip_that_makes_a_gzip_member_look_cut(tmp_path: Path) -> None:
    """Found by the fuzz tier: bytes flipped near the end of a member desynchronise the
    decoder, which then eats the rest of the file as garbage without an error."""
    lines = [json.dumps({"text": f"Fixture document {i} about mills."}).encode() for i in range(200)]  # fmt: skip
    packed = bytearray(gzip.compress(b"\n".join(lines) + b"\n", mtime=0))
    for index in range(len(packed) - 70, len(packed)):
        packed[index] ^= 0xFF
    path = tmp_path / "tail.jsonl.gz"
    path.write_bytes(bytes(packed))
    documents, counts = read_source(JsonlReader(), [str(path)])[:2]
    originals = {json.loads(line)["text"] for line in lines}
    assert all(d["text"] in originals for d in documents)
    assert counts["jsonl:corrupt_stream"] >= 1


def test_plain_arc_record_that_overruns(tmp_path: Path) -> None:
    from tests.test_io_warc import arc_file

    def record(url: str, block: bytes, extra: int = 0) -> bytes:
        return f"{url} 192.0.2.7 20080430204825 text/html {len(block) + extra}\n".encode() + block + b"\n"  # fmt: skip

    filedesc = b"1 0 InternetArchive\nURL IP-address Archive-date Content-type Archive-length\n"
    records = [
        f"filedesc://m.arc 0.0.0.0 20080430204825 text/plain {len(filedesc)}\n".encode()
        + filedesc
        + b"\n",  # fmt: skip
        record("http://m/1", http_response(page("first mill page")), extra=300),
        record("http://m/2", http_response(page("second wheat page"))),
        record("http://m/3", http_response(page("third sail page"))),
    ]
    path = tmp_path / "over.arc"
    path.write_bytes(b"".join(records))
    documents, counts = read_source(WarcReader(), [str(path)])[:2]
    assert [d["url"] for d in documents] == ["http://m/2", "http://m/3"]
    assert counts["warc:corrupt_record"] == 1
    # the same reader on an intact plain ARC finds no overrun
    (tmp_path / "intact.arc").write_bytes(gzip.decompress(arc_file()))
    documents, counts = read_source(WarcReader(), [str(tmp_path / "intact.arc")])[:2]
    assert [d["url"] for d in documents] == ["http://mills.example/dunster"]
    assert "warc:corrupt_record" not in counts


def test_damage_check_of_a_bomb_stops_at_the_reader_limit(tmp_path: Path) -> None:
    from gristmill.io.compression import find_damage

    path = tmp_path / "bomb.txt.gz"
    path.write_bytes(gzip.compress(b"\0" * 50_000_000, mtime=0)[:-8])  # cut: damaged
    assert find_damage(str(path)) is not None
    assert find_damage(str(path), max_bytes=1_000_000) is None  # not decoded to the end
    documents, counts = read_source(BookReader(max_bytes=1_000_000), [str(path)])[:2]
    assert documents == [] and counts["books:oversized"] == 1


def test_wet_record_holding_a_spliced_header_fragment(tmp_path: Path) -> None:
    """Found by the fuzz tier (seed 3, case 1330): a splice put the tail of another
    record's header block inside a conversion record, which was kept as text."""
    fragment = (b"The 00-0000-4000-8000-000000000003>\r\nWARC-Target-URI: http://m/fr\r\n"
                b"Content-Type: text/plain\r\nContent-Le")  # fmt: skip
    records = [
        warc_record("conversion", 0, fragment, "http://m/0", Content_Type="text/plain"),
        warc_record(
            "conversion", 1, b"A clean page about mills.", "http://m/1", Content_Type="text/plain"
        ),  # fmt: skip
    ]
    path = tmp_path / "spliced.wet"
    path.write_bytes(b"".join(records))
    documents, counts = read_source(WetReader(), [str(path)])[:2]
    assert [d["url"] for d in documents] == ["http://m/1"]
    assert counts["wet:corrupt_record"] == 1


def test_skips_are_only_held_when_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"text": "kept"}\nnot json\n')
    reader = JsonlReader()
    (shard,) = reader.shards("s", [str(path)])
    counting, recording = ReaderCounts(), ReaderCounts(record_skips=True)
    list(reader.read(shard, counting))
    list(reader.read(shard, recording))
    assert counting == recording == {"records": 2, "jsonl:invalid_json": 1}
    assert counting.skipped == [] and [r.ordinal for r in recording.skipped] == [1]
