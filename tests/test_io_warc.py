"""WARC/ARC/WET readers: record types, HTTP decoding, charsets, damaged files, accounting.

The fixtures are generated here, byte for byte, as a crawler writes them (one gzip member
per record); the golden files hold the documents and the counts they give.
"""

from __future__ import annotations

import gzip
import io
import zlib
from pathlib import Path

import brotli
import fsspec
import pytest
import zstandard
from pydantic import ValidationError

from gristmill.io.base import ReaderCounts
from gristmill.io.html import (
    charset_from_content_type,
    charset_from_meta,
    decode_html,
    extract_text,
    looks_like_html,
)
from gristmill.io.warc import WarcReader, _decode_page, dechunk, decode_content
from gristmill.io.wet import WetReader
from tests.reader_checks import assert_accounting, golden_view, read_source

DATE = "2024-03-01T10:00:00Z"

ARTICLE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>The watermill at Dunster</title></head>
<body>
<nav><a href="/">Home</a> | <a href="/mills">Mills</a> | <a href="/contact">Contact</a></nav>
<article>
<h1>The watermill at Dunster</h1>
<p>The mill stands on the River Avill below the castle. A mill has stood on this site since
the eleventh century, and the present building dates from the late eighteenth.</p>
<p>Two overshot wheels drive the stones, which still grind wholemeal flour for the village
bakery. Visitors can watch the miller dress the stones in the winter months.</p>
</article>
<footer>Copyright 2024 Dunster Mill Trust. All rights reserved.</footer>
</body></html>
"""

CHUNKED_PAGE = """<html><head><title>Milling terms</title></head><body>
<p>A hopper feeds grain into the eye of the runner stone; the meal leaves through the
spout at the edge of the bed stone and falls into the meal bin below.</p>
</body></html>
"""

RUSSIAN_PAGE = """<html><head>
<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">
<title>Мельница</title></head><body>
<p>Водяная мельница стояла на берегу реки. Мельник молол зерно для всей деревни,
и каждую осень к нему везли урожай с окрестных полей.</p>
</body></html>
"""

LATIN1_PAGE = """<html><head><title>Le moulin</title></head><body>
<p>Le meunier se lève avant l'aube; la roue tourne déjà et la farine blanchit les
murs du moulin où l'on entend le grondement régulier des meules.</p>
</body></html>
"""

GZIP_PAGE = """<html><body><p>Windmills turn to face the wind: a post mill turns its whole
body, while a tower mill turns only its cap, carried on a curb of iron rollers.</p></body></html>
"""

BROTLI_PAGE = """<html><body><p>Tide mills store the rising tide in a pond behind a gate and
grind while it runs out, so their working hours move with the moon.</p></body></html>
"""

SNIFFED_PAGE = """  <!doctype html><html><body><p>Some servers send no Content-Type at all; the
reader sniffs the payload and finds the markup of an ordinary page.</p></body></html>"""

RESOURCE_PAGE = """<html><body><p>A resource record holds a page captured without an HTTP
envelope, as browser-based archiving tools store it.</p></body></html>"""

STORED_DECHUNKED_PAGE = """<html><body><p>Many crawlers store the body de-chunked but keep
the Transfer-Encoding header; the reader then takes the body as stored.</p></body></html>"""

SCRIPT_ONLY_PAGE = "<html><head><script>var x = 1;</script></head><body></body></html>"


# -- fixture writers -------------------------------------------------------------------------
def http_response(
    body: bytes, content_type: str | None = "text/html; charset=utf-8", status: str = "200 OK",
    extra: tuple[tuple[str, str], ...] = (),
) -> bytes:  # fmt: skip
    lines = [f"HTTP/1.1 {status}"]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    lines += [f"{name}: {value}" for name, value in extra]
    if not any(name.lower() == "transfer-encoding" for name, _ in extra):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def warc_record(
    kind: str, index: int, block: bytes, url: str | None = None, **headers: str
) -> bytes:
    """One WARC/1.1 record, uncompressed (headers in the order crawlers write them)."""
    lines = ["WARC/1.1", f"WARC-Type: {kind}", f"WARC-Date: {DATE}",
             f"WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-{index:012d}>"]  # fmt: skip
    if url is not None:
        lines.append(f"WARC-Target-URI: {url}")
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    lines.append(f"Content-Length: {len(block)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8") + block + b"\r\n\r\n"


def gzip_member(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as handle:
        handle.write(data)
    return buffer.getvalue()


def chunked(body: bytes, size: int = 50) -> bytes:
    pieces = [body[i : i + size] for i in range(0, len(body), size)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


HTTP = {"Content_Type": "application/http; msgtype=response"}


def crawl_records() -> list[bytes]:
    """A small crawl with every kind of record a reader meets."""
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
    records = [
        warc_record("warcinfo", 0, b"software: gristmill-test\r\nformat: WARC File Format 1.1\r\n",
                    Content_Type="application/warc-fields"),
        warc_record("request", 1, b"GET /dunster HTTP/1.1\r\nHost: mills.example\r\n\r\n",
                    "http://mills.example/dunster", Content_Type="application/http; msgtype=request"),
        warc_record("response", 2, http_response(ARTICLE.encode()), "http://mills.example/dunster",
                    **HTTP),
        warc_record("metadata", 3, b"outlinks: http://mills.example/mills\r\n",
                    "http://mills.example/dunster", Content_Type="application/warc-fields"),
        warc_record("revisit", 4, b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n",
                    "http://mills.example/dunster", **HTTP,
                    WARC_Profile="http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"),
        warc_record("response", 5, http_response(pdf, "application/pdf"),
                    "http://mills.example/leaflet.pdf", **HTTP),
        warc_record("response", 6, http_response(png, "image/png"),
                    "http://mills.example/wheel.png", **HTTP),
        warc_record("response", 7, http_response(chunked(CHUNKED_PAGE.encode()),
                    extra=(("Transfer-Encoding", "chunked"),)), "http://mills.example/terms", **HTTP),
        warc_record("response", 8, http_response(RUSSIAN_PAGE.encode("cp1251"), "text/html"),
                    "http://mills.example/ru", **HTTP),
        warc_record("response", 9, http_response(LATIN1_PAGE.encode("latin-1"), "text/html"),
                    "http://mills.example/fr", **HTTP),
        warc_record("response", 10, http_response(gzip_member(GZIP_PAGE.encode()),
                    extra=(("Content-Encoding", "gzip"),)), "http://mills.example/wind", **HTTP),
        warc_record("response", 11, http_response(brotli.compress(BROTLI_PAGE.encode()),
                    extra=(("Content-Encoding", "br"),)), "http://mills.example/tide", **HTTP),
        warc_record("response", 12, http_response(b"<html><body>Not found</body></html>",
                    status="404 Not Found"), "http://mills.example/missing", **HTTP),
        warc_record("response", 13, http_response(b"", status="301 Moved Permanently",
                    extra=(("Location", "http://mills.example/dunster"),)),
                    "http://mills.example/old", **HTTP),
        warc_record("response", 14, http_response(SNIFFED_PAGE.encode(), None),
                    "http://mills.example/sniffed", **HTTP),
        warc_record("response", 15, http_response(b"\x00\x01\x02binary", None),
                    "http://mills.example/blob", **HTTP),
        warc_record("response", 16, http_response(SCRIPT_ONLY_PAGE.encode()),
                    "http://mills.example/app", **HTTP),
        warc_record("response", 17, http_response(b"\x1f\x9d\x90garbage",
                    extra=(("Content-Encoding", "compress"),)), "http://mills.example/z", **HTTP),
        warc_record("response", 18, http_response(STORED_DECHUNKED_PAGE.encode(),
                    extra=(("Transfer-Encoding", "chunked"),)), "http://mills.example/dechunked",
                    **HTTP),
        warc_record("response", 19, http_response(b""), "http://mills.example/empty", **HTTP),
        warc_record("resource", 20, RESOURCE_PAGE.encode(), "http://mills.example/captured",
                    Content_Type="text/html; charset=utf-8"),
        warc_record("resource", 21, b"wget log line\n", "metadata://gnu.org/wget/log",
                    Content_Type="text/plain"),
        warc_record("response", 22, b"www.mills.example.\t300\tIN\tA\t192.0.2.7\n", "dns:mills.example",
                    Content_Type="text/dns"),
    ]  # fmt: skip
    return records


def write_gzip_warc(path: Path, records: list[bytes]) -> Path:
    path.write_bytes(b"".join(gzip_member(record) for record in records))
    return path


def docs_and_counts(reader, path: Path | str):
    documents, counts, _ = read_source(reader, [str(path)], source="web")
    return documents, counts


# -- golden: the crawl ------------------------------------------------------------------------
def test_crawl_golden(tmp_path: Path, golden) -> None:
    path = write_gzip_warc(tmp_path / "crawl-00000.warc.gz", crawl_records())
    documents, counts = docs_and_counts(WarcReader(), path)
    golden.check("io_warc_crawl", golden_view(documents, counts))
    by_url = {document["url"]: document for document in documents}
    assert set(by_url) == {
        "http://mills.example/dunster", "http://mills.example/terms", "http://mills.example/ru",
        "http://mills.example/fr", "http://mills.example/wind", "http://mills.example/tide",
        "http://mills.example/sniffed", "http://mills.example/dechunked",
        "http://mills.example/captured",
    }  # fmt: skip
    assert "Мельник молол зерно" in by_url["http://mills.example/ru"]["text"]
    assert by_url["http://mills.example/ru"]["meta"]["charset"] == "cp1251"
    assert "Le meunier se lève" in by_url["http://mills.example/fr"]["text"]
    assert "runner stone" in by_url["http://mills.example/terms"]["text"]
    assert "post mill turns its whole" in by_url["http://mills.example/wind"]["text"]
    assert "Copyright" not in by_url["http://mills.example/dunster"]["text"]
    assert by_url["http://mills.example/dunster"]["id"] == "web/crawl-00000.warc.gz/2"
    assert counts["warc:revisit"] == counts["warc:request"] == counts["warc:metadata"] == 1
    assert counts["warc:non_html"] == 4  # pdf, png, unknown binary, dns
    assert counts["warc:http_status"] == 2
    assert counts["warc:decode_error"] == 1
    assert counts["warc:empty_text"] == 1
    assert counts["warc:empty_payload"] == 1


def test_bracketed_target_uri_is_unwrapped(tmp_path: Path) -> None:
    """wget writes WARC/1.0 ``WARC-Target-URI: <http://...>``; the url is the bare URI."""
    records = [
        warc_record("response", 1, http_response(ARTICLE.encode()), "<http://mills.example/wget>",
                    **HTTP),
        warc_record("response", 2, http_response(b"gone", status="404 Not Found"),
                    "<http://mills.example/gone>", **HTTP),
    ]  # fmt: skip
    path = write_gzip_warc(tmp_path / "wget.warc.gz", records)
    documents, counts = docs_and_counts(WarcReader(), path)
    assert [document["url"] for document in documents] == ["http://mills.example/wget"]
    assert counts["warc:http_status"] == 1


def test_same_documents_from_every_compression(tmp_path: Path) -> None:
    records = crawl_records()
    compressor = zstandard.ZstdCompressor()
    files = {
        "gzip": b"".join(gzip_member(record) for record in records),
        "plain": b"".join(records),
        "whole": gzip_member(b"".join(records)),  # one gzip member for the whole file
        "zstd": b"".join(compressor.compress(record) for record in records),  # frame per record
    }
    results = []
    for kind, data in files.items():
        (tmp_path / kind).mkdir()
        path = tmp_path / kind / "crawl.warc.gz"  # the content decides, not the name
        path.write_bytes(data)
        results.append(docs_and_counts(WarcReader(), path))
    for documents, counts in results[1:]:
        assert documents == results[0][0]
        assert counts == results[0][1]


def test_zstd_with_dictionary_frame(tmp_path: Path) -> None:
    """The WARC-zstd layout: a skippable frame holding the dictionary, then frames."""
    records = crawl_records()
    dictionary = zstandard.train_dictionary(1024, records * 8)
    compressor = zstandard.ZstdCompressor(dict_data=dictionary)
    content = dictionary.as_bytes()
    frame = b"\x5d\x2a\x4d\x18" + len(content).to_bytes(4, "little") + content
    path = tmp_path / "crawl.warc.zst"
    path.write_bytes(frame + b"".join(compressor.compress(record) for record in records))
    expected = docs_and_counts(WarcReader(), write_gzip_warc(tmp_path / "crawl.warc.gz", records))
    documents, counts = docs_and_counts(WarcReader(), path)
    assert [d["text"] for d in documents] == [d["text"] for d in expected[0]]
    assert counts == expected[1]


# -- damaged files ----------------------------------------------------------------------------
def test_corrupt_member_is_counted_and_skipped(tmp_path: Path, golden) -> None:
    records = crawl_records()
    members = [gzip_member(record) for record in records]
    damaged = bytearray(members[8])  # the Russian page
    damaged[40:60] = b"\xff" * 20
    members[8] = bytes(damaged)
    path = tmp_path / "damaged.warc.gz"
    path.write_bytes(b"".join(members))
    documents, counts = docs_and_counts(WarcReader(), path)
    golden.check("io_warc_damaged", golden_view(documents, counts, text_chars=60))
    assert counts["warc:corrupt_stream"] == 1
    urls = [document["url"] for document in documents]
    assert "http://mills.example/ru" not in urls
    assert "http://mills.example/captured" in urls  # read after the damage
    # ordinals of the records after the damage are those of the undamaged file
    clean = docs_and_counts(WarcReader(), write_gzip_warc(tmp_path / "clean.warc.gz", records))[0]
    clean_ids = {d["url"]: d["id"].rsplit("/", 1)[1] for d in clean}
    assert all(clean_ids[d["url"]] == d["id"].rsplit("/", 1)[1] for d in documents)


def test_two_damaged_members_and_two_garbage_runs(tmp_path: Path) -> None:
    records = crawl_records()
    members = [gzip_member(record) for record in records]
    for index in (8, 14):  # the Russian page, the sniffed page
        members[index] = members[index][:30] + b"\xff" * 20 + members[index][50:]
    gz = tmp_path / "gz" / "two.warc.gz"
    gz.parent.mkdir()
    gz.write_bytes(b"".join(members))
    garbage = b"\x00 not a record \x00\r\n" * 10
    plain = tmp_path / "plain" / "two.warc"
    plain.parent.mkdir()
    plain.write_bytes(
        b"".join(records[:8]) + garbage + b"".join(records[8:14]) + garbage + b"".join(records[14:])
    )
    documents, counts = docs_and_counts(WarcReader(), gz)
    assert counts["warc:corrupt_stream"] == 2 and counts["records"] == 23
    assert len(documents) == 7
    documents, counts = docs_and_counts(WarcReader(), plain)
    assert counts["warc:corrupt_record"] == 2
    assert len(documents) == 9


def test_damage_in_the_first_member(tmp_path: Path) -> None:
    members = [gzip_member(record) for record in crawl_records()]
    members[0] = members[0][:20] + b"\xff" * 30 + members[0][50:]  # the warcinfo record
    path = tmp_path / "damaged.warc.gz"
    path.write_bytes(b"".join(members))
    documents, counts = docs_and_counts(WarcReader(), path)
    assert counts["warc:corrupt_stream"] == 1 and counts["records"] == 23
    assert len(documents) == 9


def test_remote_filesystem(tmp_path: Path) -> None:
    """Any fsspec URL is read the same way (memory:// here, s3:// or gs:// in production)."""
    data = b"".join(gzip_member(record) for record in crawl_records())
    with fsspec.open("memory://crawls/crawl.warc.gz", "wb") as handle:
        handle.write(data)
    documents, counts = docs_and_counts(WarcReader(), "memory://crawls")
    local = docs_and_counts(
        WarcReader(), write_gzip_warc(tmp_path / "crawl.warc.gz", crawl_records())
    )
    assert [d["text"] for d in documents] == [d["text"] for d in local[0]]
    assert counts == local[1]


def test_file_cut_inside_a_member(tmp_path: Path) -> None:
    data = b"".join(gzip_member(record) for record in crawl_records())
    path = tmp_path / "cut.warc.gz"
    path.write_bytes(data[: len(data) - 150])  # inside the last member (the dns record)
    documents, counts = docs_and_counts(WarcReader(), path)
    assert counts["warc:corrupt_stream"] == 1
    assert len(documents) == 9  # every page before the cut


def test_plain_file_cut_inside_a_record(tmp_path: Path) -> None:
    records = crawl_records()[:3]
    data = b"".join(records)
    path = tmp_path / "cut.warc"
    path.write_bytes(data[: len(data) - 200])  # inside the body of the article
    documents, counts = docs_and_counts(WarcReader(), path)
    assert documents == []
    assert counts == {"records": 3, "warc:warcinfo": 1, "warc:request": 1, "warc:truncated": 1}


def test_garbage_between_plain_records(tmp_path: Path) -> None:
    records = crawl_records()
    path = tmp_path / "garbage.warc"
    path.write_bytes(b"".join(records[:3]) + b"\x00 not a record at all \x00\r\n" * 20
                     + b"".join(records[3:]))  # fmt: skip
    documents, counts = docs_and_counts(WarcReader(), path)
    assert counts["warc:corrupt_record"] == 1
    assert len(documents) == 9


def test_garbage_file_and_empty_file(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.warc.gz"
    garbage.write_bytes(gzip_member(b"this is not an archive\n" * 10))
    empty = tmp_path / "empty.warc.gz"
    empty.write_bytes(b"")
    documents, counts, _ = read_source(WarcReader(), [str(garbage), str(empty)])
    assert documents == []
    assert counts == {"records": 1, "warc:corrupt_record": 1}


def test_oversized_payload(tmp_path: Path) -> None:
    path = write_gzip_warc(tmp_path / "crawl.warc.gz", crawl_records())
    documents, counts = docs_and_counts(WarcReader(max_payload_bytes=600), path)
    assert counts["warc:too_large"] == 1  # the article: the other pages are smaller
    assert "http://mills.example/dunster" not in [d["url"] for d in documents]


# -- ARC and WET ------------------------------------------------------------------------------
def arc_file() -> bytes:
    """An ARC v1 file as the Internet Archive wrote them: filedesc, DNS, HTML, image."""

    def record(url: str, ip: str, mime: str, block: bytes) -> bytes:
        return f"{url} {ip} 20080430204825 {mime} {len(block)}\n".encode() + block + b"\n"

    filedesc_body = (b"1 0 InternetArchive\nURL IP-address Archive-date Content-type "
                     b"Archive-length\n")  # fmt: skip
    members = [
        record("filedesc://mills.arc", "0.0.0.0", "text/plain", filedesc_body),
        record("dns:mills.example", "192.0.2.1", "text/dns", b"20080430204825\nmills.example.\t300\tIN\tA\t192.0.2.7\n"),
        record("http://mills.example/dunster", "192.0.2.7", "text/html", http_response(ARTICLE.encode())),
        record("http://mills.example/wheel.png", "192.0.2.7", "image/png", http_response(b"\x89PNG\r\n", "image/png")),
    ]  # fmt: skip
    return b"".join(gzip_member(member) for member in members)


def test_arc_golden(tmp_path: Path, golden) -> None:
    path = tmp_path / "mills.arc.gz"
    path.write_bytes(arc_file())
    documents, counts = docs_and_counts(WarcReader(), path)
    golden.check("io_warc_arc", golden_view(documents, counts))
    assert [d["url"] for d in documents] == ["http://mills.example/dunster"]
    assert "River Avill" in documents[0]["text"]
    assert "warc_record_id" not in documents[0]["meta"]  # warcio invents random ids for ARC


def test_arc_corrupt_member(tmp_path: Path) -> None:
    data = arc_file()
    members = data.split(b"\x1f\x8b\x08")[1:]
    members = [b"\x1f\x8b\x08" + m for m in members]
    members[1] = members[1][:12] + b"\xff" * 20 + members[1][32:]  # the DNS record
    path = tmp_path / "mills.arc.gz"
    path.write_bytes(b"".join(members))
    documents, counts = docs_and_counts(WarcReader(), path)
    assert counts["warc:corrupt_stream"] == 1
    assert [d["url"] for d in documents] == ["http://mills.example/dunster"]


def wet_records() -> list[bytes]:
    text_a = (b"The watermill at Dunster\nThe mill stands on the River Avill below the castle.\n"
              b"Two overshot wheels drive the stones.")  # fmt: skip
    text_b = "Le meunier se lève avant l'aube; la roue tourne déjà.".encode() + b"\xff"
    return [
        warc_record("warcinfo", 0, b"isPartOf: CC-MAIN-2024-10\r\n", Content_Type="application/warc-fields"),
        warc_record("conversion", 1, text_a, "http://mills.example/dunster", Content_Type="text/plain",
                    WARC_Refers_To="<urn:uuid:00000000-0000-4000-8000-000000000002>",
                    WARC_Identified_Content_Language="eng"),
        warc_record("conversion", 2, b"   \n", "http://mills.example/blank", Content_Type="text/plain"),
        warc_record("conversion", 3, text_b, "http://mills.example/fr", Content_Type="text/plain"),
    ]  # fmt: skip


def test_wet_golden(tmp_path: Path, golden) -> None:
    path = write_gzip_warc(tmp_path / "crawl.warc.wet.gz", wet_records())
    documents, counts = docs_and_counts(WetReader(), path)
    golden.check("io_wet_crawl", golden_view(documents, counts))
    assert [d["url"] for d in documents] == [
        "http://mills.example/dunster",
        "http://mills.example/fr",
    ]
    assert documents[1]["text"].endswith("déjà.\ufffd")
    assert counts == {"records": 4, "wet:warcinfo": 1, "wet:empty_text": 1}


def test_folders_pick_their_files(tmp_path: Path) -> None:
    write_gzip_warc(tmp_path / "a.warc.gz", crawl_records())
    (tmp_path / "b.arc.gz").write_bytes(arc_file())
    write_gzip_warc(tmp_path / "c.warc.wet.gz", wet_records())
    (tmp_path / "d.warc.wat.gz").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not an archive")
    warc_names = [s.name for s in WarcReader().shards("web", [str(tmp_path)])]
    wet_names = [s.name for s in WetReader().shards("web", [str(tmp_path)])]
    assert warc_names == ["a.warc.gz", "b.arc.gz"]
    assert wet_names == ["c.warc.wet.gz"]


def test_batches_are_bounded(tmp_path: Path) -> None:
    path = write_gzip_warc(tmp_path / "crawl.warc.gz", crawl_records())
    documents, _, batches = read_source(WarcReader(batch_docs=2), [str(path)])
    assert all(batch.num_rows <= 2 for batch in batches)
    assert len(documents) == 9


def test_reader_options_are_validated() -> None:
    with pytest.raises(ValidationError, match="resiliparse"):
        WarcReader(extractor="lynx")
    with pytest.raises(ValidationError, match="extra"):
        WarcReader(main_content=False)
    with pytest.raises(ValidationError):
        WetReader(max_text_bytes=0)


# -- HTTP and HTML helpers --------------------------------------------------------------------
def test_dechunk() -> None:
    body = b"The miller grinds the corn."
    assert dechunk(chunked(body, 5)) == body
    assert dechunk(b"5;ext=1\r\nhello\r\n0\r\n\r\n") == b"hello"
    assert dechunk(b"<html>stored de-chunked</html>") == b"<html>stored de-chunked</html>"
    assert dechunk(b"5\r\nhello\r\n10\r\ncut sh") == b"hellocut sh"  # truncated last chunk
    assert dechunk(b"3\r\nnot chunked after all") == b"3\r\nnot chunked after all"
    assert dechunk(b"5\r\nhello\r\nzz\r\n") == b"5\r\nhello\r\nzz\r\n"


def test_decode_content() -> None:
    page = ARTICLE.encode()
    assert decode_content(gzip_member(page), "gzip", 1 << 20) == page
    assert decode_content(zlib.compress(page), "deflate", 1 << 20) == page
    raw_deflate = zlib.compressobj(wbits=-15)
    assert (
        decode_content(raw_deflate.compress(page) + raw_deflate.flush(), "deflate", 1 << 20) == page
    )
    assert decode_content(brotli.compress(page), "br", 1 << 20) == page
    assert decode_content(zstandard.ZstdCompressor().compress(page), "zstd", 1 << 20) == page
    assert decode_content(page, "gzip", 1 << 20) == page  # stored decoded, header kept
    cut = decode_content(gzip_member(page)[: len(page) // 3], "gzip", 1 << 20)
    assert cut and page.startswith(cut)  # a payload cut short gives what it has
    assert decode_content(b"\x00\x01binary", "compress", 1 << 20) is None
    assert len(decode_content(gzip_member(page), "gzip", 20)) == 21  # bounded


def test_charsets() -> None:
    assert charset_from_content_type('text/html; charset="ISO-8859-1"') == "cp1252"
    assert charset_from_content_type("text/html") is None
    assert charset_from_content_type("text/html; charset=no-such-charset") is None
    assert charset_from_meta(b'<meta charset="windows-1251">') == "cp1251"
    assert (
        charset_from_meta(b'<meta http-equiv="Content-Type" content="text/html; charset=koi8-r">')
        == "koi8-r"
    )
    assert charset_from_meta(b" " * 3000 + b'<meta charset="koi8-r">') is None
    assert decode_html("<p>Мельница</p>".encode("cp1251"), "cp1251") == (
        "<p>Мельница</p>",
        "cp1251",
    )
    assert decode_html(b"\xef\xbb\xbf<p>caf\xc3\xa9</p>", "cp1252") == ("<p>café</p>", "utf-8")
    # a declaration that decodes is trusted; one that does not is a mislabel
    assert decode_html("<p>café crème</p>".encode(), "cp1252") == ("<p>cafÃ© crÃ¨me</p>", "cp1252")
    page = "<p>Мельник молол зерно для всей деревни</p>"
    assert decode_html(page.encode(), "cp1252") == (page, "utf-8")
    # declared UTF-8 but Latin-1 bytes: the declaration is a mislabel, detection decides
    page = "<p>Le meunier se lève avant l'aube; la roue tourne déjà, près du château.</p>"
    text, charset = decode_html(page.encode("latin-1"), "utf-8")
    assert charset != "utf-8" and "\ufffd" not in text


def test_pages_declaring_utf8_decode_as_decode_html_and_the_repair_do() -> None:
    # the reader decodes declared UTF-8 once; what it makes of a page is unchanged
    page = "<p>Le meunier se lève avant l'aube; la roue tourne déjà.</p>"
    assert _decode_page(page.encode(), "utf-8") == (page, "utf-8", False)
    assert _decode_page(b"\xef\xbb\xbf" + page.encode(), "utf-8") == (page, "utf-8", False)
    mislabelled = page.encode("latin-1")
    html, charset = decode_html(mislabelled, "utf-8")
    assert _decode_page(mislabelled, "utf-8") == (html, charset, False) and charset != "utf-8"
    stray = page.encode().replace(b"l'aube", b"l\x92aube")  # one bad byte among good ones
    assert _decode_page(stray, "utf-8") == (stray.decode("utf-8", "replace"), "utf-8", True)
    assert _decode_page(page.encode() + b"\xff" * 8, "utf-8") is None  # a damaged span
    meta = b'<meta charset="utf-8">' + mislabelled
    assert _decode_page(meta, None) == (*decode_html(meta), False)


def test_looks_like_html() -> None:
    assert looks_like_html(b"\xef\xbb\xbf  <!DOCTYPE html><html>")
    assert looks_like_html(b"<p>just a paragraph</p>")
    assert looks_like_html(b'<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml">')
    assert not looks_like_html(b"%PDF-1.4")
    assert not looks_like_html(b'<?xml version="1.0"?><rss version="2.0">')
    assert not looks_like_html(b"plain text")


def test_extractors() -> None:
    text = extract_text(ARTICLE, "resiliparse")
    assert "overshot wheels" in text and "Copyright" not in text
    pytest.importorskip("trafilatura")
    text = extract_text(ARTICLE, "trafilatura")
    assert "overshot wheels" in text
    with pytest.raises(ValueError, match="unknown extractor"):
        extract_text(ARTICLE, "lynx")


def test_trafilatura_reader(tmp_path: Path) -> None:
    pytest.importorskip("trafilatura")
    path = write_gzip_warc(tmp_path / "crawl.warc.gz", crawl_records())
    documents, counts = docs_and_counts(WarcReader(extractor="trafilatura"), path)
    assert any("River Avill" in d["text"] for d in documents)
    assert {d["meta"]["extractor"] for d in documents} == {"trafilatura"}
    assert all(0 < d["meta"]["extract_text_share"] <= 1 for d in documents)
    assert counts["records"] == 23


def test_page_signals_off_keeps_the_texts_and_leaves_the_page_signals_out(tmp_path: Path) -> None:
    path = write_gzip_warc(tmp_path / "crawl.warc.gz", crawl_records())
    measured, _ = docs_and_counts(WarcReader(extractor="resiliparse"), path)
    unmeasured, _ = docs_and_counts(WarcReader(extractor="resiliparse", page_signals=False), path)
    assert [d["text"] for d in unmeasured] == [d["text"] for d in measured]
    assert all("extract_page_chars" in d["meta"] for d in measured)
    for document in unmeasured:
        assert not {"extract_page_chars", "extract_text_share"} & set(document["meta"])
    # the boilerplate extractor needs the page's text for its doubtful-page decision
    kept, _ = docs_and_counts(WarcReader(page_signals=False), path)
    assert all("extract_page_chars" in d["meta"] for d in kept)


# -- evaluation: the real archives of ../shared/data -------------------------------------------
@pytest.mark.evaluation
def test_real_warc_and_wet_files(shared_data: Path) -> None:
    warc_root = shared_data / "web" / "warc"
    reader = WarcReader()
    totals = ReaderCounts()
    docs_by_folder: dict[str, int] = {}
    for shard in reader.shards("web", [str(warc_root)]):
        counts = ReaderCounts()
        documents = [row for batch in reader.read(shard, counts) for row in batch.to_pylist()]
        assert_accounting(documents, counts)
        folder = shard.name.split("__", 1)[0]
        # pages read whose text was all boilerplate (shop pages, link lists) count as read
        read = len(documents) + counts["warc:empty_text"]
        docs_by_folder[folder] = docs_by_folder.get(folder, 0) + read
        totals.update(counts)
        assert all(document["text"].strip() for document in documents)
    assert totals["warc:revisit"] == 56  # 55 in ukwa, one in the warcio examples
    assert totals["warc:corrupt_stream"] == totals["warc:corrupt_record"] == 0
    assert docs_by_folder["dolma"] == 37  # every one of its HTTP responses (text or empty)
    assert docs_by_folder["resiliparse"] == 45  # ClueWeb09 (LF-only headers) included
    assert docs_by_folder["ukwa"] >= 40
    assert docs_by_folder["warcio_examples"] >= 3  # chunked, resource and ARC pages
    assert sum(docs_by_folder.values()) >= 120

    wet_documents, wet_counts, _ = read_source(WetReader(), [str(shared_data / "web" / "wet")])
    assert len(wet_documents) == 4  # the 4 conversion records
    assert wet_counts["wet:warcinfo"] == 2
    assert all(d["url"].startswith("http") for d in wet_documents)
