"""Parquet and Arrow IPC readers: mapping, null/empty text, formats, damage, fsspec."""

from __future__ import annotations

from pathlib import Path

import fsspec
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from gristmill.documents import DOC_SCHEMA, make_batch
from gristmill.io.base import ReaderCounts
from gristmill.io.columnar import ArrowReader, ParquetReader
from tests.reader_checks import golden_view, read_source


def sample_table() -> pa.Table:
    return pa.table(
        {
            "doc_id": ["d0", "d1", "d2", "d3", "d4", "d5"],
            "text": ["Alpha text.", None, "", "Gamma text.", " \t\n", "Epsilon, the last."],
            "url": ["https://a.example/0", None, None, "https://a.example/3", None, None],
            "lang": ["en", "en", "fr", "de", "en", None],
            "score": [0.9, 0.1, 0.2, 0.7, 0.3, 0.8],
            "tags": [["a", "b"], [], None, ["c"], [], ["d"]],
        }
    )


def test_parquet_golden(tmp_path: Path, golden) -> None:
    path = tmp_path / "sample.parquet"
    pq.write_table(sample_table(), path, row_group_size=4)
    documents, counts, _ = read_source(ParquetReader(id_field="doc_id"), [str(path)], "pq")
    golden.check("io_parquet_sample", golden_view(documents, counts))
    assert [d["id"] for d in documents] == [
        "pq/sample.parquet/0",
        "pq/sample.parquet/3",
        "pq/sample.parquet/5",
    ]
    assert dict(counts) == {"records": 6, "parquet:missing_text": 1, "parquet:empty_text": 2}


def test_arrow_file_stream_and_feather_agree_with_parquet(tmp_path: Path) -> None:
    table = sample_table()
    pq.write_table(table, tmp_path / "t.parquet")
    with ipc.new_file(tmp_path / "file.arrow", table.schema) as writer:
        writer.write_table(table, max_chunksize=2)
    with ipc.new_stream(tmp_path / "stream.arrows", table.schema) as writer:
        writer.write_table(table, max_chunksize=4)
    feather.write_feather(table, tmp_path / "f.feather")
    expected, _, _ = read_source(ParquetReader(), [str(tmp_path / "t.parquet")])
    for name in ("file.arrow", "stream.arrows", "f.feather"):
        documents, counts, _ = read_source(ArrowReader(), [str(tmp_path / name)])
        assert [(d["text"], d["url"], d["meta"]) for d in documents] == [
            (d["text"], d["url"], d["meta"]) for d in expected
        ], name
        assert dict(counts) == {"records": 6, "arrow:missing_text": 1, "arrow:empty_text": 2}


def test_meta_fields_project_columns(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pq.write_table(sample_table(), path)
    reader = ParquetReader(meta_fields=("lang",), url_field=None)
    documents, _, _ = read_source(reader, [str(path)])
    assert [d["meta"] for d in documents] == [{"lang": "en"}, {"lang": "de"}, {}]
    assert all(d["url"] is None for d in documents)


def test_gristmill_output_reread_rebuilds_ids_and_merges_meta(tmp_path: Path) -> None:
    batch = make_batch(
        ["web/old-shard/7", "web/old-shard/8"],
        "web",
        ["kept text", "other text"],
        ["https://u/1", None],
        ['{"language":"en"}', None],
    ).append_column("lid_score", pa.array([0.5, 0.25]))
    assert batch.schema.remove(5).equals(DOC_SCHEMA)
    path = tmp_path / "out.parquet"
    pq.write_table(batch, path)
    documents, _, _ = read_source(ParquetReader(id_field="id"), [str(path)], "again")
    assert [d["id"] for d in documents] == ["again/out.parquet/0", "again/out.parquet/1"]
    assert documents[0]["meta"] == {
        "language": "en",
        "lid_score": 0.5,
        "orig_id": "web/old-shard/7",
        "source": "web",
    }
    assert documents[1]["meta"]["orig_id"] == "web/old-shard/8"


def test_binary_text_column_with_invalid_utf8(tmp_path: Path) -> None:
    table = pa.table({"text": pa.array([b"fine", b"caf\xe9", None], pa.binary())})
    path = tmp_path / "bin.parquet"
    pq.write_table(table, path)
    documents, counts, _ = read_source(ParquetReader(), [str(path)])
    assert [d["text"] for d in documents] == ["fine"]
    assert dict(counts) == {"records": 3, "parquet:invalid_utf8": 1, "parquet:missing_text": 1}


def test_dictionary_text_column(tmp_path: Path) -> None:
    table = pa.table({"text": pa.array(["x", "y", "x"]).dictionary_encode()})
    path = tmp_path / "dict.arrow"
    feather.write_feather(table, path)
    documents, _, _ = read_source(ArrowReader(), [str(path)])
    assert [d["text"] for d in documents] == ["x", "y", "x"]


def test_a_file_with_the_wrong_schema_is_quarantined(tmp_path: Path) -> None:
    """Issue 16: one parquet file without the text column (or with a non-text one) is
    counted with its columns, and the run's other files are still read."""
    pq.write_table(pa.table({"text": ["first good"]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"body": ["x"]}), tmp_path / "b.parquet")
    pq.write_table(pa.table({"text": [1, 2]}), tmp_path / "c.parquet")
    pq.write_table(pa.table({"text": ["last good"]}), tmp_path / "d.parquet")
    reader = ParquetReader()
    documents, counts, _ = read_source(reader, [str(tmp_path)])
    assert [d["text"] for d in documents] == ["first good", "last good"]
    assert dict(counts) == {"records": 4, "parquet:schema_mismatch": 2}
    counts = ReaderCounts(record_skips=True)
    for shard in reader.shards("s", [str(tmp_path)]):
        list(reader.read(shard, counts))
    details = {Path(r.path).name: r.detail for r in counts.skipped}
    assert "text_field='text'" in details["b.parquet"] and "['body']" in details["b.parquet"]
    assert "int64" in details["c.parquet"]


def test_skipped_rows_are_recorded_with_their_row_numbers(tmp_path: Path) -> None:
    path = tmp_path / "sample.parquet"
    pq.write_table(sample_table(), path)
    reader = ParquetReader(batch_docs=4)
    counts = ReaderCounts(record_skips=True)
    for shard in reader.shards("s", [str(path)]):
        list(reader.read(shard, counts))
    assert [(r.ordinal, r.reason) for r in counts.skipped] == [
        (1, "parquet:missing_text"), (2, "parquet:empty_text"), (4, "parquet:empty_text"),
    ]  # fmt: skip


def test_truncated_and_garbage_files_are_counted(tmp_path: Path) -> None:
    good = tmp_path / "good.parquet"
    pq.write_table(sample_table(), good)
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(good.read_bytes()[:-100])
    noise = tmp_path / "noise.arrow"
    noise.write_bytes(b"definitely not arrow" * 10)
    documents, counts, _ = read_source(ParquetReader(), [str(cut)])
    assert documents == [] and dict(counts) == {"records": 1, "parquet:corrupt_file": 1}
    documents, counts, _ = read_source(ArrowReader(), [str(noise)])
    assert documents == [] and dict(counts) == {"records": 1, "arrow:corrupt_file": 1}


def test_truncated_arrow_stream_keeps_the_batches_before(tmp_path: Path) -> None:
    table = pa.table({"text": [f"row {i}" for i in range(100)]})
    path = tmp_path / "s.arrows"
    with ipc.new_stream(path, table.schema) as writer:
        writer.write_table(table, max_chunksize=10)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    documents, counts, _ = read_source(ArrowReader(), [str(path)])
    assert counts["arrow:corrupt_file"] == 1
    assert 0 < len(documents) < 100
    assert [d["text"] for d in documents] == [f"row {i}" for i in range(len(documents))]


def test_batches_are_bounded_by_docs_and_bytes(tmp_path: Path) -> None:
    table = pa.table({"text": ["x" * 100] * 25})
    path = tmp_path / "b.parquet"
    pq.write_table(table, path)
    _, _, batches = read_source(ParquetReader(batch_docs=10), [str(path)])
    assert [b.num_rows for b in batches] == [10, 10, 5]
    _, _, batches = read_source(ParquetReader(batch_bytes=250), [str(path)])
    assert max(b.num_rows for b in batches) == 2
    documents, _, _ = read_source(ParquetReader(batch_docs=7, batch_bytes=250), [str(path)])
    assert [d["id"] for d in documents] == [f"test/b.parquet/{i}" for i in range(25)]


def test_memory_filesystem() -> None:
    fs = fsspec.filesystem("memory")
    with fs.open("/columnar-test/part.parquet", "wb") as handle:
        pq.write_table(sample_table(), handle)
    try:
        documents, counts, _ = read_source(ParquetReader(), ["memory://columnar-test/*.parquet"])
    finally:
        fs.rm("/columnar-test", recursive=True)
    assert [d["text"] for d in documents] == ["Alpha text.", "Gamma text.", "Epsilon, the last."]
    assert counts["records"] == 6
