"""Book reader: encodings, newlines, Gutenberg header/footer variants, skips, shards."""

from __future__ import annotations

import csv
import gzip
import re
import unicodedata
from pathlib import Path

import fsspec
import pytest

from gristmill.io.books import BookReader, decode_text, strip_gutenberg
from tests.reader_checks import golden_view, read_source

LICENSE_FOOTER = (
    "***** This file should be named 99999-8.txt or 99999-8.zip *****\n"
    "Updated editions will replace the previous one--the old editions\n"
    "will be renamed.\n\n*** START: FULL LICENSE ***\n\n"
    "THE FULL PROJECT GUTENBERG LICENSE\nPLEASE READ THIS BEFORE YOU DISTRIBUTE OR USE THIS WORK\n"
)

LATIN1_BOOK = (
    "The Project Gutenberg EBook of Les Misérables (abrégé), by Victor Hugo\n\n"
    "This eBook is for the use of anyone anywhere at no cost and with\n"
    "almost no restrictions whatsoever.\n\n"
    "Title: Les Misérables (abrégé)\n"
    "       Première partie\n\n"
    "Author: Victor Hugo\n\n"
    "Release Date: June 5, 2008 [EBook #99999]\n\n"
    "Language: French\n\n"
    "Character set encoding: ISO-8859-1\n\n"
    "*** START OF THIS PROJECT GUTENBERG EBOOK LES MISÉRABLES ***\n\n\n\n"
    "Produced by Some Volunteer and the Online\nDistributed Proofreading Team\n\n\n"
    "CHAPITRE PREMIER\n\n"
    "En 1815, M. Charles-François-Bienvenu Myriel était évêque de Digne.\n"
    "C'était un vieillard d'environ soixante-quinze ans.\n\n\n"
    "End of the Project Gutenberg EBook of Les Misérables, by Victor Hugo\n\n"
    "*** END OF THIS PROJECT GUTENBERG EBOOK LES MISÉRABLES ***\n\n" + LICENSE_FOOTER
)

BOM_BOOK = (
    "The Project Gutenberg eBook, The Sign, by A. Writer\n\n"
    "Title: The Sign\n\nAuthor: A. Writer\n\nLanguage: English\n\n"
    "***START OF THE PROJECT GUTENBERG EBOOK THE SIGN***\n\n\n"
    "E-text prepared by Someone\nand revised by Someone Else.\n\n\n"
    "THE SIGN\n\n“Quoted,” she said — with an em dash.\n\n"
    "End of Project Gutenberg’s The Sign, by A. Writer\n\n"
    "***END OF THE PROJECT GUTENBERG EBOOK THE SIGN***\n" + LICENSE_FOOTER
)

SMALL_PRINT_BOOK = (
    "The Project Gutenberg Etext of An Old Book, by Anon\n"
    "**Welcome To The World of Free Plain Vanilla Electronic Texts**\n\n"
    "**Etexts Readable By Both Humans and By Computers, Since 1971**\n\n"
    "*These Etexts Prepared By Hundreds of Volunteers and Donations*\n\n"
    "**The Legal Small Print**\n\nLegal text that must go.\n\n"
    "*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*Ver.04.29.93*END*\n\n"
    "This etext was prepared by Jane Doe.\n\n"
    "AN OLD BOOK\n\nIts only paragraph.\n\n"
    "End of The Project Gutenberg Etext of An Old Book\n"
)

PLAIN_TEXT = "A notebook, not from Gutenberg.\n\nIt stays whole.\n"

FRENCH_PROSE = (
    "Le garçon était très fâché à côté de l'église; où est-il allé? "
    "Ça va très bien, merci, répondit-elle. Déjà l'été s'achève, et "
    "les élèves rêvent de la forêt où poussent des châtaigniers. "
) * 12


def write_library(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "a_latin1.txt").write_bytes(LATIN1_BOOK.replace("\n", "\r\n").encode("latin-1"))
    (folder / "b_bom.txt").write_bytes(b"\xef\xbb\xbf" + BOM_BOOK.replace("\n", "\r").encode())
    (folder / "c_small_print.txt").write_bytes(SMALL_PRINT_BOOK.encode("ascii"))
    (folder / "d_plain.txt").write_text(PLAIN_TEXT, encoding="utf-8")
    (folder / "e_undeclared.txt").write_bytes(FRENCH_PROSE.encode("latin-1"))
    (folder / "f_empty.txt").write_bytes(b"")
    header_only = (
        LATIN1_BOOK.split("Produced by")[0] + "*** END OF THIS PROJECT GUTENBERG EBOOK X ***\n"
    )
    (folder / "g_header_only.txt").write_text(header_only, encoding="utf-8")
    (folder / "h_binary.txt").write_bytes(b"\x00\x01\x02binary\x00" * 10)
    (folder / "i_book.txt.gz").write_bytes(gzip.compress(PLAIN_TEXT.encode())[:-8])
    (folder / "notes.md").write_text("not a book", encoding="utf-8")


def test_library_golden(tmp_path: Path, golden) -> None:
    write_library(tmp_path / "library")
    documents, counts, _ = read_source(BookReader(), [str(tmp_path / "library")], "books")
    golden.check("io_books_library", golden_view(documents, counts))
    assert dict(counts) == {
        "records": 9,
        "books:empty": 2,
        "books:undecodable": 1,
        "books:corrupt_stream": 1,
    }
    by_url = {d["url"]: d for d in documents}
    latin1 = by_url["a_latin1.txt"]
    assert latin1["text"].startswith("CHAPITRE PREMIER\n\nEn 1815")
    assert latin1["text"].endswith("soixante-quinze ans.")
    assert "\r" not in latin1["text"]
    assert latin1["meta"] == {
        "author": "Victor Hugo",
        "encoding": "cp1252",
        "gutenberg": True,
        "gutenberg_id": 99999,
        "language": "French",
        "release_date": "June 5, 2008",
        "title": "Les Misérables (abrégé) Première partie",
    }
    assert by_url["b_bom.txt"]["text"] == "THE SIGN\n\n“Quoted,” she said — with an em dash."
    assert by_url["b_bom.txt"]["meta"]["encoding"] == "utf-8-sig"
    assert by_url["c_small_print.txt"]["text"] == "AN OLD BOOK\n\nIts only paragraph."
    assert by_url["d_plain.txt"]["text"] == PLAIN_TEXT.strip()
    assert by_url["d_plain.txt"]["meta"] == {"encoding": "utf-8"}
    assert by_url["e_undeclared.txt"]["text"] == FRENCH_PROSE.strip()
    for document in documents:
        assert "project gutenberg" not in document["text"].lower()


def test_oversized_books_are_skipped_before_decoding(tmp_path: Path) -> None:
    write_library(tmp_path / "library")
    documents, counts, _ = read_source(BookReader(max_bytes=600), [str(tmp_path / "library")])
    assert counts["books:oversized"] == 3  # a_latin1, b_bom, e_undeclared
    assert {d["url"] for d in documents} == {"c_small_print.txt", "d_plain.txt"}


def test_shards_group_small_files_with_stable_names(tmp_path: Path) -> None:
    root = tmp_path / "books"
    (root / "collection").mkdir(parents=True)
    for name in ("a.txt", "b.txt", "collection/c.txt", "collection/d.txt", "collection/e.txt"):
        (root / name).write_text(f"Book {name}.\n", encoding="utf-8")
    reader = BookReader(shard_files=2)
    shards = reader.shards("books", [str(root)])
    assert [(s.name, s.members) for s in shards] == [
        ("part-00000", ("a.txt", "b.txt")),
        ("collection-00000", ("collection/c.txt", "collection/d.txt")),
        ("collection-00001", ("collection/e.txt",)),
    ]
    documents, _, _ = read_source(reader, [str(root)], "books")
    assert [(d["id"], d["url"]) for d in documents] == [
        ("books/part-00000/0", "a.txt"),
        ("books/part-00000/1", "b.txt"),
        ("books/collection-00000/0", "collection/c.txt"),
        ("books/collection-00000/1", "collection/d.txt"),
        ("books/collection-00001/0", "collection/e.txt"),
    ]
    by_bytes = BookReader(shard_bytes=20).shards("books", [str(root / "*.txt")])
    assert [s.name for s in by_bytes] == ["part-00000", "part-00001"]


def test_memory_filesystem() -> None:
    fs = fsspec.filesystem("memory")
    fs.pipe("/books-test/shelf/one.txt", LATIN1_BOOK.encode("latin-1"))
    try:
        documents, counts, _ = read_source(BookReader(), ["memory://books-test"], "mem")
    finally:
        fs.rm("/books-test", recursive=True)
    assert [(d["id"], d["url"]) for d in documents] == [("mem/shelf-00000/0", "shelf/one.txt")]
    assert documents[0]["meta"]["title"].startswith("Les Misérables")


def test_decode_text_order() -> None:
    assert decode_text("héllo".encode("utf-16")) == ("héllo", "utf-16")
    assert decode_text(b"\xef\xbb\xbfhi") == ("hi", "utf-8-sig")
    assert decode_text("smart ‘quotes’".encode("cp1252")) == ("smart ‘quotes’", "cp1252")
    assert decode_text(b"nul\x00byte") is None


def test_strip_gutenberg_leaves_unmarked_text_alone() -> None:
    book = strip_gutenberg("  Just a text mentioning the Project Gutenberg site.\n")
    assert book.text == "Just a text mentioning the Project Gutenberg site."
    assert book.meta == {}


def _normalised(value: str) -> str:
    plain = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", plain.lower())


@pytest.mark.evaluation
def test_gutenberg_corpus(shared_data: Path) -> None:
    folder = shared_data / "books" / "gutenberg"
    documents, counts, _ = read_source(BookReader(), [str(folder)], "books")
    assert dict(counts) == {"records": 31}
    with open(folder / "MANIFEST.csv", encoding="utf-8") as handle:
        manifest = {row["file_name"]: row for row in csv.DictReader(handle, skipinitialspace=True)}
    assert {d["url"] for d in documents} == set(manifest)
    for document in documents:
        text, meta, expected = document["text"], document["meta"], manifest[document["url"]]
        assert "PROJECT GUTENBERG EBOOK" not in text.upper(), document["url"]
        assert "*** START" not in text and "*** END" not in text
        assert not text.startswith(("Produced by", "E-text prepared by")), document["url"]
        assert "\r" not in text and "\ufeff" not in text
        assert len(text) > 200_000  # novels, not headers
        assert meta["gutenberg"] is True
        assert _normalised(meta.get("title", "")).startswith(_normalised(expected["title"]))
        assert _normalised(meta["author"]) == _normalised(expected["author"])
        assert meta["language"] == expected["language"]
    by_url = {d["url"]: d for d in documents}
    assert by_url["471-0.txt"]["meta"]["encoding"] == "cp1252"  # declares UTF-8, is cp1252
    assert "\u2019" in by_url["471-0.txt"]["text"] or "\u201c" in by_url["471-0.txt"]["text"]
    # 106.txt is 105.txt with only its header edited: the cleaned texts are identical
    assert by_url["105.txt"]["text"] == by_url["106.txt"]["text"]
