"""MinHash LSH near-duplicate dedup: hashing against references and datasketch, golden
cases through the runner on a real Dask cluster, and the invariants of the drop decisions."""

from __future__ import annotations

import json
import random
import re
import unicodedata
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from datasketch import MinHash

from gristmill.cli import main
from gristmill.dedupe import near_duplicates
from gristmill.dedupe.components import connected_components
from gristmill.dedupe.lsh import band_keys, candidate_probability, star_edges
from gristmill.dedupe.minhash import MinHashDedup
from gristmill.dedupe.shingles import (
    normalized_word_hashes,
    position_constants,
    shingle_hashes,
    word_hash,
)
from gristmill.dedupe.signatures import estimated_jaccard, minhash_signatures
from gristmill.dedupe.word_tables import (
    ASCII_PUNCTUATION,
    UNICODE_FORMS,
    code_point_table,
    normalize_words,
)
from gristmill.io.writers import read_table
from gristmill.pipelines.config import load_config
from gristmill.pipelines.runner import dask_client, run_pipeline
from gristmill.scripts import is_non_spaced
from tests.corpus import write_config
from tests.test_cluster import standalone_cluster  # noqa: F401  (the fixture)

MASK64 = (1 << 64) - 1


# --- reference implementations, in plain Python -------------------------------------


def reference_words(text: str, zero_digits: bool = False) -> list[str]:
    """Split on whitespace, NFKC, lowercase, drop punctuation and symbols, (digits to 0),
    each character of a script written without spaces a word by itself."""
    words = []
    for token in text.split():
        kept = []
        for char in unicodedata.normalize("NFKC", token).lower():
            category = unicodedata.category(char)
            if category[0] in "PS":
                continue
            if is_non_spaced(char):
                kept.append(f" {char} ")
            else:
                kept.append("0" if category == "Nd" and zero_digits else char)
        words.extend("".join(kept).split())
    return words


def reference_shingles(text: str, ngram: int = 5) -> list[tuple[str, ...]]:
    words = reference_words(text)
    if not words:
        return []
    if len(words) < ngram:
        return [tuple(words)]
    return [tuple(words[i : i + ngram]) for i in range(len(words) - ngram + 1)]


def reference_shingle_hash(shingle: tuple[str, ...]) -> int:
    constants = [int(c) for c in position_constants(len(shingle))]
    return sum(c * word_hash(w.encode()) for c, w in zip(constants, shingle, strict=True)) & MASK64


TEXTS = [
    "The quick brown fox jumps over the lazy dog, again and again in 1999!",
    "Ünïcödé wörds: naïve café, ﬁsh & chips — Ｆｕｌｌｗｉｄｔｈ text\u00a0with NBSP.",
    "Ελληνικά κείμενα και русский текст, 中文字符 ２０２４ and Arabic digits ٣٤٥.",
    "short text",
    "",
    "   \n\t  ",
    "--- *** !!!",
    "a\x00b control\x01chars stay part of words",
]


@pytest.mark.parametrize("zero_digits", [False, True])
def test_word_hashes_follow_the_documented_normalisation(zero_digits):
    texts = pa.array(TEXTS, pa.large_string())
    hashes, counts = normalized_word_hashes(texts, zero_digits=zero_digits)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    for index, text in enumerate(TEXTS):
        expected = [word_hash(w.encode("utf-8")) for w in reference_words(text, zero_digits)]
        assert hashes[offsets[index] : offsets[index + 1]].tolist() == expected, text


#: Characters that exercise every path of the compiled word scan: ASCII classes, kept,
#: dropped and separating non-ASCII characters, compatibility forms, characters that compose
#: with their neighbours (combining marks, Hangul jamo, viramas) and characters past the table.
CHARACTER_POOL = (
    "aZ09 \t\n.,;!-_'\"\x00"
    "éÉñßøЖжΣσςΩ中文日本語한국어"
    "\u00a0\u2009\u3000\u0085\u200b"
    "ﬁＦ２²½™ℌ…«»—"
    "e\u0301\u0308\u0327\u1100\u1161\u11a8\u3131\u314f"
    "\u1039\u1019\u0bcd\u0b95\u0e48\u0e01"
    "٣४\U0001f600\U0001d400\U00020000\U00030000\U000e0041"
    "ガカ\u3099ｶﾞ㍻㊀ไทย\u0e33ລາວខ្មែរ"
)


def ascii_pass(token: str, zero_digits: bool) -> str:
    """The documented first step in each word: ASCII letters lowercased, ASCII digits to
    ``0`` (with ``zero_digits``), ASCII punctuation and symbols removed; other characters
    left as they are."""
    kept = []
    for char in token:
        if ord(char) >= 128:
            kept.append(char)
        elif char.isdigit() and zero_digits:
            kept.append("0")
        elif unicodedata.category(char)[0] not in "PS":
            kept.append(char.lower())
    return "".join(kept)


def documented_word_hashes(
    text: str, unicode_form: str | None, zero_digits: bool = False, code_tokens: bool = False
) -> list[int]:
    """The module's documented normalisation, its Unicode steps done by Arrow's kernels;
    with ``code_tokens``, ASCII punctuation is split off first, each a word by itself."""
    tokens = pc.utf8_split_whitespace(pa.array([text], pa.large_string()))[0].values.to_pylist()
    if code_tokens:
        tokens = [
            piece
            for token in tokens
            for piece in re.split(f"([{re.escape(''.join(ASCII_PUNCTUATION))}])", token)
            if piece
        ]
    prepared = pa.array([ascii_pass(token, zero_digits) for token in tokens], pa.large_string())
    normalized = pc.utf8_split_whitespace(normalize_words(prepared, unicode_form, zero_digits))
    hashes = []
    for token, words in zip(tokens, normalized.to_pylist(), strict=True):
        if code_tokens and token in ASCII_PUNCTUATION:
            hashes.append(word_hash(token.encode()))
        else:
            hashes += [word_hash(w.encode()) for w in words if w]
    return hashes


@pytest.mark.parametrize(
    ("unicode_form", "zero_digits", "code_tokens"),
    [(form, False, False) for form in [*UNICODE_FORMS, None]]
    + [("NFKC", True, False), ("NFKC", False, True)],
)
def test_compiled_word_scan_equals_the_arrow_kernels_on_random_text(
    unicode_form, zero_digits, code_tokens
):
    rng = random.Random(11)
    count = 800 if zero_digits or code_tokens else 3000
    texts = [
        "".join(rng.choice(CHARACTER_POOL) for _ in range(rng.randint(0, 60))) for _ in range(count)
    ]
    hashes, counts = normalized_word_hashes(
        pa.array(texts, pa.large_string()),
        unicode_form,
        zero_digits=zero_digits,
        code_tokens=code_tokens,
    )
    offsets = np.concatenate([[0], np.cumsum(counts)])
    for index, text in enumerate(texts):
        expected = documented_word_hashes(text, unicode_form, zero_digits, code_tokens)
        assert hashes[offsets[index] : offsets[index + 1]].tolist() == expected, repr(text)


def test_code_point_table_maps_context_free_characters_and_defers_the_rest():
    kinds, outputs, data = code_point_table("NFKC")

    def entry(char: str) -> tuple[int, bytes]:
        code = ord(char)
        return int(kinds[code]), bytes(data[outputs[code] : outputs[code + 1]])

    assert entry("É") == (2, "é".encode())  # kept, lowercased
    assert entry("ﬁ") == (2, b"fi")  # compatibility form
    assert entry("²") == (2, b"2")  # a digit once normalised
    assert entry("中") == (4, "中".encode())  # a word by itself
    assert entry("ｶ") == (4, "カ".encode())  # halfwidth katakana, a word by itself
    assert entry("㍻")[0] == 3  # two Han characters once normalised: the Unicode path
    assert entry("«") == (1, b"")  # punctuation dropped
    assert entry("\u00a0") == (0, b"")  # no-break space separates words
    assert entry("\u0301")[0] == 3  # a combining mark: the Unicode path
    assert entry("\u1161")[0] == 3  # a Hangul medial vowel composes with its neighbour


def test_shingle_hashes_are_position_weighted_sums_of_word_hashes():
    shingles = shingle_hashes(pa.array(TEXTS), ngram=5)
    offsets = shingles.offsets
    for index, text in enumerate(TEXTS):
        expected = [reference_shingle_hash(s) for s in reference_shingles(text)]
        assert shingles.values[offsets[index] : offsets[index + 1]].tolist() == expected, text


def test_signatures_and_jaccard_estimates_equal_datasketch_affine64():
    rng = random.Random(5)
    vocabulary = [f"w{i}" for i in range(400)]
    base = [rng.choice(vocabulary) for _ in range(300)]
    texts = [" ".join(base)]
    for changed in (3, 30, 120):
        words = list(base)
        for position in rng.sample(range(len(words)), changed):
            words[position] = rng.choice(vocabulary)
        texts.append(" ".join(words))
    ours = minhash_signatures(shingle_hashes(pa.array(texts)), num_perm=128, seed=7)
    sketches = []
    for text in texts:
        sketch = MinHash(num_perm=128, seed=7, scheme="affine64", hashfunc=reference_shingle_hash)
        sketch.update_batch(reference_shingles(text))
        sketches.append(sketch)
        assert np.array_equal(sketch.hashvalues, ours[len(sketches) - 1])
    for other in range(1, len(texts)):
        assert estimated_jaccard(ours[0], ours[other]) == sketches[0].jaccard(sketches[other])


def test_a_document_without_words_has_an_empty_signature_and_no_bucket_match():
    signatures = minhash_signatures(shingle_hashes(pa.array(["", "!!!", "one"])), 16, 1)
    assert (signatures[0] == np.iinfo(np.uint64).max).all()
    assert (signatures[1] == np.iinfo(np.uint64).max).all()
    assert not (signatures[2] == np.iinfo(np.uint64).max).any()


def test_signatures_do_not_depend_on_how_a_batch_is_sliced(monkeypatch):
    import gristmill.dedupe.minhash as minhash_module

    texts = pa.array(TEXTS * 3, pa.large_string())
    whole, counts = MinHashDedup().signatures(texts)
    monkeypatch.setattr(minhash_module, "SLICE_BYTES", 64)
    sliced, sliced_counts = MinHashDedup().signatures(texts)
    assert np.array_equal(whole, sliced) and np.array_equal(counts, sliced_counts)


def test_default_s_curve_finds_pairs_at_the_target_similarity():
    step = MinHashDedup()
    assert step.num_perm == 128
    assert candidate_probability(0.8, step.bands, step.rows) > 0.94
    assert candidate_probability(0.9, step.bands, step.rows) > 0.999
    assert candidate_probability(0.5, step.bands, step.rows) < 0.07


def test_band_keys_agree_exactly_when_their_rows_agree():
    rng = np.random.default_rng(3)
    signatures = rng.integers(0, 2**63, size=(3, 12), dtype=np.uint64)
    signatures[1] = signatures[0]
    signatures[1, 5] += np.uint64(1)  # band 1 of 3 rows differs
    keys = band_keys(signatures, bands=4, rows=3)
    assert (keys[0] == keys[1]).tolist() == [True, False, True, True]
    assert not np.isin(keys[2], keys[0]).any()
    assert len(set(band_keys(np.zeros((1, 12), np.uint64), 4, 3)[0].tolist())) == 4


def test_star_edges_link_new_documents_to_a_centre_and_to_the_index():
    buckets = np.array([5, 5, 5, 9, 9, 7], dtype=np.uint64)
    indexed = np.array([False, False, True, False, False, True])
    content = np.array([3, 1, 2, 8, 4, 1], dtype=np.uint64)
    nodes = np.array([10, 11, 12, 13, 14, 15], dtype=np.int64)
    centres, members = star_edges(buckets, indexed, content, nodes)
    assert sorted(zip(centres.tolist(), members.tolist(), strict=True)) == [
        (11, 10), (12, 10), (12, 11), (14, 13),
    ]  # fmt: skip


def test_connected_components_are_transitive():
    nodes, labels = connected_components(np.array([1, 2, 7]), np.array([2, 3, 8]))
    groups = {}
    for node, label in zip(nodes.tolist(), labels.tolist(), strict=True):
        groups.setdefault(label, set()).add(node)
    assert sorted(map(sorted, groups.values())) == [[1, 2, 3], [7, 8]]


def test_connected_components_match_scipy_on_random_graphs():
    """The union-find finds SciPy's components (the implementation it replaced), numbered
    0, 1, ... by each component's smallest node."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components as scipy_components

    rng = np.random.default_rng(5)
    for _ in range(20):
        count, edges = int(rng.integers(1, 400)), int(rng.integers(0, 500))
        ids = rng.choice(2**40, count, replace=False).astype(np.int64)
        left, right = ids[rng.integers(0, count, edges)], ids[rng.integers(0, count, edges)]
        nodes, labels = connected_components(left, right)
        expected_nodes, positions = np.unique(np.concatenate([left, right]), return_inverse=True)
        graph = coo_matrix(
            (np.ones(edges), (positions[:edges], positions[edges:])),
            shape=(len(expected_nodes), len(expected_nodes)),
        )
        _, expected = scipy_components(graph, directed=False)
        assert np.array_equal(nodes, expected_nodes)
        pairs = set(zip(labels.tolist(), expected.tolist(), strict=True))
        assert len(pairs) == len(set(labels.tolist())) == len(set(expected.tolist()))
        first_seen = [int(label) for label in dict.fromkeys(labels.tolist())]
        assert first_seen == list(range(len(first_seen)))


# --- end to end through the runner ---------------------------------------------------

VOCABULARY = [
    f"{a}{b}" for a in ("ka", "lo", "mi", "nu", "pe", "ri", "so", "tu") for b in range(300)
]


def _document(rng: random.Random, words: int = 240, paragraphs: int = 4) -> str:
    per = words // paragraphs
    return "\n\n".join(
        " ".join(rng.choice(VOCABULARY) for _ in range(per)).capitalize() + "."
        for _ in range(paragraphs)
    )


def _edit(rng: random.Random, text: str, changes: int) -> str:
    words = text.split(" ")
    for position in rng.sample(range(len(words)), changes):
        words[position] = rng.choice(VOCABULARY)
    return " ".join(words)


def golden_documents() -> dict[str, list[tuple[str, str]]]:
    """``{source: [(name, text)]}`` with one case per behaviour."""
    rng = random.Random(2024)
    original, near, reorder, far, cluster, shared = (_document(rng) for _ in range(6))
    paragraphs = reorder.split("\n\n")
    web = [
        ("identical-a", original),
        ("unique-1", _document(rng)),
        ("identical-b", original),
        ("near-a", near),
        ("near-b", _edit(rng, near, 3)),
        ("reordered-a", reorder),
        ("reordered-b", "\n\n".join(paragraphs[2:] + paragraphs[:2])),
        ("below-a", far),
        ("below-b", _edit(rng, far, 12)),
        *[(f"cluster-{k}", _edit(rng, cluster, 2) if k else cluster) for k in range(5)],
        ("shared-web", shared),
        ("unique-2", _document(rng)),
    ]
    books = [("shared-books", _edit(rng, shared, 1)), ("unique-3", _document(rng))]
    return {"web": web, "books": books}


def write_sources(folder: Path, documents: dict[str, list[tuple[str, str]]], shards: int = 1):
    for source, docs in documents.items():
        target = folder / source
        target.mkdir(parents=True, exist_ok=True)
        for shard in range(shards):
            with (target / f"part-{shard}.jsonl").open("w", encoding="utf-8") as handle:
                for name, text in docs[shard::shards]:
                    handle.write(json.dumps({"text": text, "url": name}) + "\n")


def minhash_config(folder: Path, output: Path, step: dict | None = None, **extra) -> dict:
    stage = {"minhash": step} if step else "minhash"
    return {
        "output": str(output),
        "write_rejected": True,
        "sources": [
            {"name": "web", "paths": [str(folder / "web")], "format": "jsonl", "stages": [stage]},
            {"name": "books", "paths": [str(folder / "books")], "format": "jsonl",
             "priority": 1, "stages": [stage]},
        ],
        **extra,
    }  # fmt: skip


def outcome(output: Path) -> dict[str, dict]:
    """Per document name: kept, or the reason and the name of the kept twin."""
    name_of, result = {}, {}
    for path in sorted((output / "data").rglob("*.arrow")):
        for row in read_table(str(path)).select(["id", "url"]).to_pylist():
            name_of[row["id"]] = row["url"]
            result[row["url"]] = {"kept": True, "id": row["id"]}
    for path in sorted((output / "rejected").rglob("*.arrow")):
        for row in read_table(str(path)).to_pylist():
            meta = json.loads(row["meta"])
            result[row["url"]] = {
                "kept": False,
                "id": row["id"],
                "reason": row["reason"],
                "duplicate_of": row["duplicate_of"],
                "meta_duplicate_of": meta["duplicate_of"],
                "cluster_size": meta.get("cluster_size"),
            }
    for value in result.values():
        if not value["kept"] and not value["reason"].endswith("duplicate_of_index"):
            value["duplicate_of"] = name_of.get(value["duplicate_of"], value["duplicate_of"])
            value["meta_duplicate_of"] = name_of.get(
                value["meta_duplicate_of"], value["meta_duplicate_of"]
            )
    return result


def check_invariants(result: dict[str, dict]) -> None:
    """No document both kept and dropped; every dropped one points to a kept document (of
    this output, unless it was dropped against a dataset index)."""
    for name, value in result.items():
        if not value["kept"] and not value["reason"].endswith("duplicate_of_index"):
            assert value["duplicate_of"] != name
            assert result[value["duplicate_of"]]["kept"], f"{name}: twin not in the output"
            assert value["meta_duplicate_of"] == value["duplicate_of"]


@pytest.fixture(scope="module")
def client():
    with dask_client(workers=2) as client:
        yield client


def test_golden_cases(tmp_path, client, golden):
    write_sources(tmp_path / "in", golden_documents())
    config = load_config(
        write_config(tmp_path / "p.yaml", minhash_config(tmp_path / "in", tmp_path / "out"))
    )
    run = run_pipeline(config, client)
    result = outcome(tmp_path / "out")
    check_invariants(result)
    golden.check("dedupe/minhash_cases", result)

    assert result["identical-b"]["duplicate_of"] == "identical-a"
    assert result["near-b"]["duplicate_of"] == "near-a"
    assert result["reordered-b"]["duplicate_of"] == "reordered-a"
    assert result["below-a"]["kept"] and result["below-b"]["kept"]
    cluster = {f"cluster-{k}": result[f"cluster-{k}"] for k in range(5)}
    first = min(cluster, key=lambda name: cluster[name]["id"])  # the smallest id is kept
    assert [v.get("duplicate_of") for n, v in cluster.items() if n != first] == [first] * 4
    assert cluster[first]["kept"]
    assert result["cluster-3"]["cluster_size"] == 5
    assert result["shared-books"]["kept"] and result["shared-web"]["duplicate_of"] == "shared-books"
    removed = run["sources"]["web"]["stages"][-1]["removed"]
    assert removed == {"minhash:duplicate": 8}
    assert run["global_steps"]["minhash"]["dropped"] == 8
    sizes = run["global_steps"]["minhash"]["cluster_sizes"]
    assert sizes["5"] == 1  # the five-member cluster; every dropped document is in a cluster
    assert sum((int(size) - 1) * count for size, count in sizes.items()) == 8


def _clusters(result: dict[str, dict]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for name, value in result.items():
        root = name if value["kept"] else value["duplicate_of"]
        groups.setdefault(root, set()).add(name)
    return {frozenset(group) for group in groups.values()}


def property_documents(seed: int) -> dict[str, list[tuple[str, str]]]:
    """Random clusters of near-duplicates (1 or 2 edits, sizes 1 to 4) among unique texts."""
    rng = random.Random(seed)
    web = []
    for cluster in range(14):
        base = _document(rng)
        for member in range(rng.randint(1, 4)):
            web.append((f"c{cluster}-m{member}", _edit(rng, base, rng.randint(1, 2))))
    rng.shuffle(web)
    return {"web": web, "books": [("b-0", _document(rng))]}


def test_same_clusters_for_any_shard_split_and_worker_count(tmp_path, client):
    documents = property_documents(seed=11)
    outcomes = []
    for shards in (1, 3):
        folder = tmp_path / f"in{shards}"
        write_sources(folder, documents, shards=shards)
        data = minhash_config(folder, tmp_path / f"out{shards}")
        run_pipeline(load_config(write_config(tmp_path / f"p{shards}.yaml", data)), client)
        outcomes.append(outcome(tmp_path / f"out{shards}"))
    for result in outcomes:
        check_invariants(result)
        assert _clusters(result) == _clusters(outcomes[0])
    expected = {
        frozenset(n for n, _ in documents["web"] if n.startswith(f"c{c}-")) for c in range(14)
    }
    assert _clusters(outcomes[0]) == expected | {frozenset({"b-0"})}

    data = minhash_config(tmp_path / "in3", tmp_path / "one-worker")
    with dask_client(workers=1) as single:
        run_pipeline(load_config(write_config(tmp_path / "one.yaml", data)), single)

    def data_bytes(output: Path) -> dict[str, bytes]:
        return {
            str(p.relative_to(output)): p.read_bytes()
            for p in sorted((output / "data").rglob("*.arrow"))
        }

    assert len(data_bytes(tmp_path / "out3")) == 6
    assert data_bytes(tmp_path / "one-worker") == data_bytes(tmp_path / "out3")


def test_verification_off_still_drops_duplicates_and_keeps_accounting(tmp_path, client):
    write_sources(tmp_path / "in", golden_documents())
    data = minhash_config(tmp_path / "in", tmp_path / "out", step={"verify_min_jaccard": None})
    run = run_pipeline(load_config(write_config(tmp_path / "p.yaml", data)), client)
    result = outcome(tmp_path / "out")
    check_invariants(result)
    assert not result["identical-b"]["kept"] and result["below-a"]["kept"]
    web = run["sources"]["web"]
    assert web["docs_in"] == web["docs_out"] + sum(web["stages"][-1]["removed"].values())


@pytest.mark.integration
def test_standalone_cluster_gives_the_embedded_output(tmp_path, client, standalone_cluster):  # noqa: F811
    write_sources(tmp_path / "in", property_documents(seed=5), shards=3)
    data = minhash_config(tmp_path / "in", tmp_path / "embedded")
    config = write_config(tmp_path / "p.yaml", data)
    assert main(["run", str(config), "--scheduler-file", str(standalone_cluster),
                 "--output", str(tmp_path / "standalone")]) == 0  # fmt: skip
    run_pipeline(load_config(config), client)
    for folder in ("data", "rejected"):
        standalone = {
            str(p.relative_to(tmp_path / "standalone")): p.read_bytes()
            for p in sorted((tmp_path / "standalone" / folder).rglob("*.arrow"))
        }
        embedded = {
            str(p.relative_to(tmp_path / "embedded")): p.read_bytes()
            for p in sorted((tmp_path / "embedded" / folder).rglob("*.arrow"))
        }
        assert standalone and standalone == embedded
    check_invariants(outcome(tmp_path / "standalone"))


def test_report_shows_duplicate_pairs_side_by_side(tmp_path, client):
    from gristmill.report.writer import write_report

    write_sources(tmp_path / "in", golden_documents())
    config = load_config(
        write_config(tmp_path / "p.yaml", minhash_config(tmp_path / "in", tmp_path / "out"))
    )
    run_pipeline(config, client)
    page = (Path(write_report(str(tmp_path / "out")))).read_text()
    stats = json.loads((tmp_path / "out" / "report" / "stats.json").read_text())
    samples = stats["sources"]["web"]["stages"][-1]["samples"]["minhash:duplicate"]
    assert samples and all(s["duplicate_of"] for s in samples)
    kept = {
        row["id"]: row["text"]
        for path in (tmp_path / "out" / "data").rglob("*.arrow")
        for row in read_table(str(path)).select(["id", "text"]).to_pylist()
    }
    for sample in samples:
        assert sample["duplicate_of_text"] == kept[sample["duplicate_of"]][:600]
    assert "class='pair'" in page


@pytest.mark.parametrize("verify", [True, False])
def test_one_task_resolve_equals_the_partitioned_one(tmp_path, client, monkeypatch, verify):
    """A small run is resolved in one task (bucket rows fit one partition); forcing many
    partitions (and so the dask.dataframe shuffles) must give the same decisions."""
    write_sources(tmp_path / "in", property_documents(seed=5), shards=3)
    step = None if verify else {"verify_min_jaccard": None}
    summaries, results = [], []
    for name, rows in (("one", near_duplicates.ROWS_PER_PARTITION), ("many", 40)):
        monkeypatch.setattr(near_duplicates, "ROWS_PER_PARTITION", rows)
        data = minhash_config(tmp_path / "in", tmp_path / name, step=step)
        run = run_pipeline(load_config(write_config(tmp_path / f"{name}.yaml", data)), client)
        summaries.append(dict(run["global_steps"]["minhash"]))
        results.append(outcome(tmp_path / name))
    assert summaries[0]["partitions"] == 1 and summaries[1]["partitions"] > 8
    # without verification, the same pair found in two partitions' buckets counts twice
    ignored = {"partitions", "wall_s", "cpu_s", "started"} | (
        set() if verify else {"duplicate_edges"}
    )
    assert {k: v for k, v in summaries[0].items() if k not in ignored} == {
        k: v for k, v in summaries[1].items() if k not in ignored
    }
    assert summaries[0]["dropped"] > 10
    assert results[0] == results[1]
    check_invariants(results[0])
