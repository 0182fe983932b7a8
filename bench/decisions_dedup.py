"""Code near-duplicates: false merges from shared licence headers, and plagiarism recall.
Not run by CI.

The ``minhash`` step's decisions (default parameters: 16 x 8 bands, verification at 0.75,
size guard 0.5), applied in process to every LSH candidate pair, for the ``text`` profile
(words, as before) and the ``code`` profile (leading comment block skipped, ASCII operators
and brackets are words; what ``profile: auto`` uses for ``format: code`` sources):

1. ``tests/golden/dedupe/code_headers``: the redis case rebuilt — six distinct small C
   headers that share one long BSD licence comment (one an ASCII-art logo, one two lines
   of code), a LICENSE with an ASCII-art banner and a COPYING with the bare licence. Any
   pair found other than LICENSE/COPYING is a false merge.
2. ``../shared/data/code/repos`` (numpy, gin, express; every UTF-8 file under 1 MB): each
   pair found is byte-identical, or a near pair whose exact code-token 5-gram Jaccard
   (headers stripped) is >= 0.5, or a false merge. Near pairs are printed for a hand check.
3. ``../shared/data/dedup/ir_plag_java``: recall per plagiarism level (the plagiarised file
   in one cluster with its original) and precision (found pairs whose two files are the
   original or plagiarised versions of one task); ``precision_same_code`` also counts as
   right a pair of "independent" submissions whose code tokens are near-identical (exact
   5-gram Jaccard >= 0.75; the dataset's README notes such pairs), which a pretraining
   dedup should merge.

Ends with ``RESULT code_false_merges=<pairs, 1 and 2, code profile> ir_plag_precision=<p>
ir_plag_recall=<r> ir_plag_precision_same_code=<p>`` (code profile; the text profile's
figures are printed too).
"""

from __future__ import annotations

import csv
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa
from cjk_dedup import found_pairs

from gristmill.dedupe.code_headers import strip_leading_comments
from gristmill.dedupe.components import connected_components
from gristmill.dedupe.minhash import MinHashDedup
from gristmill.dedupe.shingles import shingle_hashes

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
HEADERS = ROOT / "tests" / "golden" / "dedupe" / "code_headers"


def pairs_of(profile: str, texts: list[str]) -> set[tuple[int, int]]:
    step = MinHashDedup(profile=profile)
    signatures, counts = step.signatures(pa.array(texts, pa.large_string()))
    return found_pairs(step, signatures, counts)


def token_jaccard(left: str, right: str) -> float:
    """Exact Jaccard of the code-token 5-gram sets, leading comments stripped."""
    stripped = strip_leading_comments(pa.array([left, right], pa.large_string()))
    shingles = shingle_hashes(stripped, code_tokens=True)
    cut = int(shingles.counts[0])
    a, b = set(shingles.values[:cut].tolist()), set(shingles.values[cut:].tolist())
    return len(a & b) / len(a | b) if a | b else 1.0


def header_case() -> dict[str, list]:
    files = sorted(HEADERS.iterdir())
    names = [path.name for path in files]
    texts = [path.read_text(encoding="utf-8") for path in files]
    allowed = {("COPYING", "LICENSE")}
    result = {}
    for profile in ("text", "code"):
        pairs = {tuple(sorted((names[a], names[b]))) for a, b in pairs_of(profile, texts)}
        result[profile] = sorted(pairs - allowed)
    return result


def repository_files() -> tuple[list[str], list[str]]:
    names, texts = [], []
    for path in sorted((SHARED / "code" / "repos").rglob("*")):
        if not path.is_file() or path.stat().st_size > 1 << 20:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if text.strip():
            names.append(str(path.relative_to(SHARED / "code" / "repos")))
            texts.append(text)
    return names, texts


def repository_case() -> dict[str, dict]:
    names, texts = repository_files()
    result = {}
    for profile in ("text", "code"):
        identical, near, false = 0, [], []
        for a, b in sorted(pairs_of(profile, texts)):
            if texts[a] == texts[b]:
                identical += 1
                continue
            similarity = token_jaccard(texts[a], texts[b])
            (near if similarity >= 0.5 else false).append(
                (names[a], names[b], round(similarity, 3))
            )
        result[profile] = {
            "files": len(names),
            "identical": identical,
            "near": near,
            "false": false,
        }
    return result


def ir_plag() -> dict[str, dict]:
    folder = SHARED / "dedup" / "ir_plag_java"
    rows = list(csv.DictReader((folder / "labels.tsv").open(), delimiter="\t"))
    paths = sorted({row["path"] for row in rows} | {row["original_path"] for row in rows})
    texts = [(folder / p).read_text(encoding="utf-8", errors="replace") for p in paths]
    position = {p: i for i, p in enumerate(paths)}
    label = {row["path"]: (row["case"], row["class"], row["plagiarism_level"]) for row in rows}
    derived = {  # the original and its plagiarised versions, per task
        p for p, (_, kind, _) in label.items() if kind in ("original", "plagiarized")
    } | {row["original_path"] for row in rows}
    case_of = {row["original_path"]: row["case"] for row in rows} | {
        p: case for p, (case, _, _) in label.items()
    }
    result = {}
    for profile in ("text", "code"):
        pairs = pairs_of(profile, texts)
        labelled = [
            paths[a] in derived and paths[b] in derived and case_of[paths[a]] == case_of[paths[b]]
            for a, b in pairs
        ]
        same_code = [
            right or token_jaccard(texts[a], texts[b]) >= 0.75
            for (a, b), right in zip(pairs, labelled, strict=True)
        ]
        good = sum(labelled)
        left = np.array([a for a, _ in pairs], dtype=np.int64)
        right = np.array([b for _, b in pairs], dtype=np.int64)
        nodes, labels = connected_components(left, right)
        component = dict(zip(nodes.tolist(), labels.tolist(), strict=True))
        by_level: dict[str, list[bool]] = defaultdict(list)
        for row in rows:
            if row["class"] != "plagiarized":
                continue
            mine, original = position[row["path"]], position[row["original_path"]]
            same = mine in component and component.get(original) == component[mine]
            by_level[row["plagiarism_level"]].append(same)
        hits = [hit for values in by_level.values() for hit in values]
        result[profile] = {
            "pairs": len(pairs),
            "precision": round(good / len(pairs), 3) if pairs else float("nan"),
            "precision_same_code": round(sum(same_code) / len(pairs), 3) if pairs else float("nan"),
            "recall": round(sum(hits) / len(hits), 3),
            "recall_by_level": {k: round(sum(v) / len(v), 3) for k, v in sorted(by_level.items())},
        }
    return result


def main() -> int:
    headers = header_case()
    print("licence headers, false merges:", json.dumps(headers), flush=True)
    repos = repository_case()
    for profile, value in repos.items():
        print(
            f"repos {profile}: files={value['files']} identical={value['identical']} "
            f"near={len(value['near'])} false={len(value['false'])}",
            flush=True,
        )
        for pair in value["near"] + value["false"]:
            print("   ", profile, pair)
    plag = ir_plag()
    print("ir_plag_java", json.dumps(plag), flush=True)
    false_merges = len(headers["code"]) + len(repos["code"]["false"])
    print(
        f"text profile: code_false_merges={len(headers['text']) + len(repos['text']['false'])} "
        f"ir_plag_precision={plag['text']['precision']} ir_plag_recall={plag['text']['recall']}"
    )
    print(
        f"RESULT code_false_merges={false_merges} ir_plag_precision={plag['code']['precision']} "
        f"ir_plag_recall={plag['code']['recall']} "
        f"ir_plag_precision_same_code={plag['code']['precision_same_code']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
