"""JSONL reader: field mapping, every skip reason, compression, corrupt streams, fsspec."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
from pathlib import Path

import fsspec
import pydantic
import pytest
import zstandard

from gristmill.io.jsonl import JsonlReader
from tests.reader_checks import golden_view, read_source

GOOD_RECORDS = [
    {"id": "a1", "text": "First document.", "url": "https://example.org/1", "lang": "en"},
    {"id": "a2", "text": "Zweites Dokument: größer.", "metadata": {"url": "https://x.de/2"}},
    {"text": "Third, with a gristmill meta string.", "meta": '{"title":"T"}', "score": 0.5},
]


def mixed_lines() -> list[bytes]:
    """One line per behaviour, in a fixed order (line numbers are ordinals)."""
    lines = [json.dumps(record, ensure_ascii=False).encode() for record in GOOD_RECORDS]
    lines += [
        b"",  # blank: not a record
        b'{"text": "broken',  # invalid_json
        b"[1, 2, 3]",  # valid JSON, not an object: invalid_json
        b'{"title": "no text here"}',  # missing_text
        b'{"text": 42}',  # missing_text (not a string)
        b'{"text": "  \\n "}',  # empty_text
        b'{"text": "caf\xe9 latin-1 bytes"}',  # invalid_utf8
        b'{"text": "crlf line"}\r',  # a CRLF file: kept
        b'{"text": "lone surrogate \\ud800"}',  # cannot become UTF-8: invalid_json
        b'{"text": "last line without newline"}',
    ]
    return lines


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines))
    return path


def test_mixed_file_golden(tmp_path: Path, golden) -> None:
    path = write_lines(tmp_path / "mixed.jsonl", mixed_lines())
    documents, counts, _ = read_source(JsonlReader(id_field="id"), [str(path)], "web")
    golden.check("io_jsonl_mixed", golden_view(documents, counts))
    assert counts["records"] == 12
    assert [d["id"] for d in documents] == [
        "web/mixed.jsonl/0",
        "web/mixed.jsonl/1",
        "web/mixed.jsonl/2",
        "web/mixed.jsonl/10",
        "web/mixed.jsonl/12",
    ]
    assert documents[0]["meta"] == {"lang": "en", "orig_id": "a1"}
    assert documents[2]["meta"] == {"title": "T", "score": 0.5}  # meta string merged


def test_invalid_utf8_replace_keeps_the_record(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "bad.jsonl", [b'{"text": "caf\xe9 ok"}'])
    documents, counts, _ = read_source(JsonlReader(invalid_utf8="replace"), [str(path)])
    assert [d["text"] for d in documents] == ["caf\ufffd ok"]
    assert documents[0]["meta"] == {"utf8_replaced": True}
    assert dict(counts) == {"records": 1}


def test_field_options(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "f.jsonl", mixed_lines()[:3])
    reader = JsonlReader(url_field="metadata.url", meta_fields=("lang",), id_field=None)
    documents, _, _ = read_source(reader, [str(path)])
    assert [d["url"] for d in documents] == [None, "https://x.de/2", None]
    assert [d["meta"] for d in documents] == [{"lang": "en"}, {}, {}]
    documents, _, _ = read_source(JsonlReader(url_field=None), [str(path)])
    assert all(d["url"] is None for d in documents)


def test_unknown_option_is_an_error() -> None:
    with pytest.raises(pydantic.ValidationError, match="text_feld"):
        JsonlReader(text_feld="body")


COMPRESSORS = {
    ".gz": gzip.compress,
    ".bz2": bz2.compress,
    ".xz": lzma.compress,
    ".zst": lambda data: zstandard.ZstdCompressor().compress(data),
}


@pytest.mark.parametrize("suffix", sorted(COMPRESSORS))
def test_compressed_files_read_like_plain(tmp_path: Path, suffix: str) -> None:
    raw = b"\n".join(mixed_lines())
    plain = tmp_path / "plain.jsonl"
    plain.write_bytes(raw)
    packed = tmp_path / f"packed.jsonl{suffix}"
    packed.write_bytes(COMPRESSORS[suffix](raw))
    expected, expected_counts, _ = read_source(JsonlReader(), [str(plain)])
    documents, counts, _ = read_source(JsonlReader(), [str(packed)])
    assert [d["text"] for d in documents] == [d["text"] for d in expected]
    assert counts == expected_counts


def many_records(count: int) -> bytes:
    return b"".join(b'{"text": "document number %d"}\n' % i for i in range(count))


@pytest.mark.parametrize("suffix", [".gz", ".zst", ".bz2"])
def test_truncated_stream_keeps_only_its_complete_units(tmp_path: Path, suffix: str) -> None:
    """A unit the file ends inside is not trusted (a flipped byte can look like a cut):
    its decoded lines are each counted; the complete units before it are read."""
    first, second = many_records(10_000), many_records(20_000)[len(many_records(10_000)) :]
    packed_first = COMPRESSORS[suffix](first)
    packed_second = COMPRESSORS[suffix](second)
    path = tmp_path / f"cut.jsonl{suffix}"
    path.write_bytes(packed_first + packed_second[: len(packed_second) * 3 // 4])
    documents, counts, _ = read_source(JsonlReader(), [str(path)])
    assert [d["text"] for d in documents] == [f"document number {i}" for i in range(10_000)]
    assert counts["jsonl:corrupt_stream"] >= 1
    path.write_bytes(packed_first[: len(packed_first) // 2])
    documents, counts, _ = read_source(JsonlReader(), [str(path)])
    assert documents == [] and counts["jsonl:corrupt_stream"] >= 1


def test_corrupted_zstd_frame_and_trailing_garbage(tmp_path: Path) -> None:
    # the zstd CLI writes a content checksum by default; without one a flipped byte
    # inside a block can decode silently
    frame = zstandard.ZstdCompressor(write_checksum=True).compress(many_records(2_000))
    path = tmp_path / "junk.jsonl.zst"
    path.write_bytes(frame + b"this is not zstd")
    documents, counts, _ = read_source(JsonlReader(), [str(path)])
    assert len(documents) == 2_000
    assert counts["jsonl:corrupt_stream"] == 1
    garbled = bytearray(frame)
    garbled[len(garbled) // 2 : len(garbled) // 2 + 64] = b"\xff" * 64
    path.write_bytes(bytes(garbled))
    documents, counts, _ = read_source(JsonlReader(), [str(path)])
    # the frame fails its checksum: none of it is trusted, each decoded line is counted
    assert documents == []
    assert counts["jsonl:corrupt_stream"] >= 1


def test_not_gzip_at_all(tmp_path: Path) -> None:
    path = tmp_path / "fake.jsonl.gz"
    path.write_bytes(many_records(3))
    documents, counts, _ = read_source(JsonlReader(), [str(path)])
    assert documents == []
    assert dict(counts) == {"records": 1, "jsonl:corrupt_stream": 1}


def test_overlong_line_is_dropped_and_counted(tmp_path: Path) -> None:
    long_record = json.dumps({"text": "x" * 5000}).encode()
    path = write_lines(tmp_path / "long.jsonl", [b'{"text": "a"}', long_record, b'{"text": "b"}'])
    reader = JsonlReader(max_line_bytes=1000)
    documents, counts, _ = read_source(reader, [str(path)])
    assert [d["id"].rsplit("/", 1)[1] for d in documents] == ["0", "2"]
    assert counts["jsonl:oversized"] == 1


def test_batches_are_bounded(tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    path.write_bytes(many_records(25))
    _, _, batches = read_source(JsonlReader(batch_docs=10), [str(path)])
    assert [batch.num_rows for batch in batches] == [10, 10, 5]


def test_memory_filesystem_and_folder_expansion() -> None:
    fs = fsspec.filesystem("memory")
    fs.pipe("/jsonl-test/a/one.jsonl", b'{"text": "one"}\n')
    fs.pipe("/jsonl-test/b/two.jsonl.gz", gzip.compress(b'{"text": "two"}\n'))
    fs.pipe("/jsonl-test/b/notes.md", b"not data")
    try:
        documents, counts, _ = read_source(JsonlReader(), ["memory://jsonl-test"], "mem")
    finally:
        fs.rm("/jsonl-test", recursive=True)
    assert [(d["id"], d["text"]) for d in documents] == [
        ("mem/a__one.jsonl/0", "one"),
        ("mem/b__two.jsonl.gz/0", "two"),
    ]
    assert counts["records"] == 2


@pytest.mark.evaluation
def test_dolma_documents(shared_data: Path) -> None:
    folder = shared_data / "web" / "jsonl" / "dolma"
    reader = JsonlReader(id_field="id", url_field="metadata.url")
    documents, counts, _ = read_source(reader, [str(folder)], "web")
    assert counts["records"] == 717  # 697 CC-MAIN-2019-30 documents + 20 CCNet head
    assert len(documents) + counts["jsonl:empty_text"] == 717
    assert set(counts) == {"records", "jsonl:empty_text"}
    assert all(d["text"].strip() for d in documents)
    assert all(d["url"] for d in documents)
    assert all(d["meta"]["orig_id"] for d in documents)
    cc = [d for d in documents if d["id"].startswith("web/CC-MAIN")]
    assert {d["meta"]["version"] for d in cc} == {"v0"}
