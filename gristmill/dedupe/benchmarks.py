"""Benchmark test sets for decontamination: loaders, built-in field maps, the n-gram index.

A benchmark is a file (or a folder or glob of files) in JSON Lines, JSON, CSV or Parquet,
optionally compressed, whose rows are test items; ``fields`` name the columns holding text
(dotted paths reach into nested records, lists are flattened). Built-in field maps follow
the published formats of GSM8K (``question``, ``answer``), HumanEval (``prompt``,
``canonical_solution``), MMLU (HF ``question``/``choices`` or the original header-less CSV),
PIQA (``goal``, ``sol1``, ``sol2``), TruthfulQA (HF generation / multiple-choice configs and
the original CSV), HellaSwag (``ctx``, ``endings``) and LAMBADA (``text``).

Every text becomes a set of normalised word n-grams as in GPT-3 (Brown et al. 2020, appendix
C) and NeMo Curator's task decontamination: all ``ngram``-grams (13), or, for a text shorter
than that, the whole text as one n-gram if it has at least ``min_ngram`` (8) tokens. A
*question* shorter than that (a quarter of TruthfulQA's) is indexed too, down to
``min_question_tokens``, as one n-gram of its full length that only matches a whole line of
a document (:func:`whole_line`): the exact normalised question, not a phrase inside a
sentence. Other short texts (answers such as "Mars") are too generic to match and are
skipped; both are counted per benchmark. The index keeps the n-gram hashes in a hash table,
with the benchmark and item that first produced each, so the membership of a batch of hashes
is one vectorised lookup.

A file that lacks some of the configured fields (or of the fields of the built-in format's
variant it matches best: an MMLU CSV with ``question`` but no choices) is read with the
fields it has and gets one warning, which the decontaminate step reports in the run summary;
a file with none of them is an error.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import posixpath
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, model_validator

from gristmill.dedupe.ngrams import document_ngrams, tokenize
from gristmill.storage import url_to_fs


@dataclass(frozen=True)
class BenchmarkFormat:
    """Where a benchmark format keeps its text: ``fields`` (of all its known ``variants``),
    of which ``questions`` hold questions (the first field when not given)."""

    fields: tuple[str, ...]
    id_field: str | None = None
    csv_columns: tuple[str, ...] | None = None  # for CSV files without a header row
    variants: tuple[tuple[str, ...], ...] = ()
    questions: tuple[str, ...] = ()

    def question_fields(self) -> tuple[str, ...]:
        return self.questions or self.fields[:1]

    def missing_fields(self, found: set[str]) -> list[str]:
        """The fields a file with ``found`` lacks: of the variant it matches best (the
        first of the most matched), or of all fields when there are no variants."""
        if not self.variants:
            return [name for name in self.fields if name not in found]
        best = max(self.variants, key=lambda variant: sum(name in found for name in variant))
        return [name for name in best if name not in found]


BUILTIN_FORMATS: dict[str, BenchmarkFormat] = {
    "gsm8k": BenchmarkFormat(("question", "answer")),
    "humaneval": BenchmarkFormat(("prompt", "canonical_solution"), id_field="task_id"),
    "mmlu": BenchmarkFormat(
        ("question", "choices", "A", "B", "C", "D", "choice0", "choice1", "choice2", "choice3"),
        csv_columns=("question", "A", "B", "C", "D", "answer"),
        variants=(
            ("question", "choices"),  # Hugging Face cais/mmlu
            ("question", "A", "B", "C", "D"),  # the original header-less CSV
            ("question", "choice0", "choice1", "choice2", "choice3"),  # headered CSV exports
        ),
    ),
    "piqa": BenchmarkFormat(("goal", "sol1", "sol2")),
    "truthfulqa": BenchmarkFormat(
        (
            "question",
            "best_answer",
            "correct_answers",
            "incorrect_answers",
            "mc1_targets.choices",
            "mc2_targets.choices",
            "Question",
            "Best Answer",
            "Correct Answers",
            "Incorrect Answers",
        ),
        variants=(
            ("question", "best_answer", "correct_answers", "incorrect_answers"),
            ("question", "mc1_targets.choices", "mc2_targets.choices"),
            ("Question", "Best Answer", "Correct Answers", "Incorrect Answers"),
        ),
        questions=("question", "Question"),
    ),  # fmt: skip
    "hellaswag": BenchmarkFormat(("ctx", "endings"), id_field="ind"),
    "lambada": BenchmarkFormat(("text",)),
}

FileFormat = Literal["jsonl", "json", "csv", "parquet"]
_SUFFIXES: dict[str, FileFormat] = {
    ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv",
    ".parquet": "parquet", ".pq": "parquet",
}  # fmt: skip
_COMPRESSIONS = (".gz", ".bz2", ".xz", ".zst")


class BenchmarkSpec(BaseModel):
    """One benchmark test set: ``{name, path}`` for a built-in format named like the
    benchmark, plus ``format`` to use a built-in map under another name, or ``fields``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    path: str = Field(description="file, folder or glob (local path or fsspec URL)")
    format: Literal[tuple(BUILTIN_FORMATS)] | None = None  # type: ignore[valid-type]
    fields: tuple[str, ...] | None = Field(None, min_length=1)
    id_field: str | None = None
    file_format: FileFormat | None = None

    @model_validator(mode="after")
    def _has_a_field_map(self) -> BenchmarkSpec:
        if self.fields is None and self.format is None and self.name not in BUILTIN_FORMATS:
            raise ValueError(
                f"benchmark {self.name!r} needs 'fields' or a built-in 'format' "
                f"({', '.join(BUILTIN_FORMATS)})"
            )
        return self

    def field_map(self) -> BenchmarkFormat:
        """The format to read with (given ``fields``: the first holds the questions)."""
        if self.fields is not None:
            return BenchmarkFormat(self.fields, id_field=self.id_field)
        builtin = BUILTIN_FORMATS[self.format or self.name]
        if self.id_field is not None:
            builtin = dataclasses.replace(builtin, id_field=self.id_field)
        return builtin


class BenchmarkError(ValueError):
    """A benchmark file is missing or does not hold the configured fields."""


def benchmark_files(spec: BenchmarkSpec) -> list[str]:
    """The files of a benchmark, sorted (a folder gives the files with known suffixes)."""
    fs, root = url_to_fs(spec.path)
    if fs.isdir(root):
        paths = [p for p in fs.find(root) if _file_format(p) is not None]
    elif any(char in root for char in "*?["):
        paths = fs.glob(root)
    else:
        paths = [root] if fs.exists(root) else []
    if not paths:
        raise BenchmarkError(f"benchmark {spec.name!r}: no files at {spec.path!r}")
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    prefix = "" if protocol in ("file", "local") else f"{protocol}://"
    return [prefix + p for p in sorted(paths)]


def _file_format(path: str) -> FileFormat | None:
    name = posixpath.basename(path).lower()
    for compression in _COMPRESSIONS:
        if name.endswith(compression):
            name = name[: -len(compression)]
    return _SUFFIXES.get(posixpath.splitext(name)[1])


def read_bytes(path: str) -> bytes:
    """The (decompressed) bytes of one benchmark file."""
    fs, root = url_to_fs(path)
    with fs.open(root, "rb", compression="infer") as handle:
        return handle.read()


def parse_rows(data: bytes, file_format: FileFormat, csv_columns: tuple[str, ...] | None,
               wanted: tuple[str, ...]) -> list[dict[str, Any]]:  # fmt: skip
    """The records of one benchmark file; a CSV whose header lacks the first wanted field is
    read again as header-less with ``csv_columns`` (the original MMLU files)."""
    if file_format == "jsonl":
        lines = data.decode("utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]
    if file_format == "json":
        loaded = json.loads(data.decode("utf-8"))
        if isinstance(loaded, dict):
            loaded = next((v for v in loaded.values() if isinstance(v, list)), [loaded])
        return list(loaded)
    if file_format == "csv":
        table = pa_csv.read_csv(pa.BufferReader(data))
        if csv_columns is not None and wanted[0].split(".")[0] not in table.column_names:
            table = pa_csv.read_csv(
                pa.BufferReader(data), read_options=pa_csv.ReadOptions(column_names=csv_columns)
            )
        return table.to_pylist()
    return pq.read_table(pa.BufferReader(data)).to_pylist()


def _lookup(record: Any, dotted: str) -> Any:
    value = record
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


_MISSING = object()


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list | tuple):
        return [text for item in value for text in _strings(item)]
    return []


@dataclass
class BenchmarkTexts:
    """The texts of one benchmark: ``(item id, text)`` pairs, whether each is a question,
    the files' sha256 and one warning per file that lacks configured fields."""

    name: str
    texts: list[tuple[str, str]]
    sha256: str
    items: int
    questions: list[bool] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def load_benchmark(spec: BenchmarkSpec) -> BenchmarkTexts:
    """Read every file of a benchmark and extract the texts of its configured fields."""
    field_map = spec.field_map()
    question_fields = field_map.question_fields()
    digest = hashlib.sha256()
    texts: list[tuple[str, str]] = []
    questions: list[bool] = []
    warnings: list[str] = []
    row_number = 0
    for path in benchmark_files(spec):
        file_format = spec.file_format or _file_format(path)
        if file_format is None:
            raise BenchmarkError(
                f"benchmark {spec.name!r}: cannot tell the format of {path!r}; set file_format"
            )
        try:
            data = read_bytes(path)
            rows = parse_rows(data, file_format, field_map.csv_columns, field_map.fields)
        except (ValueError, OSError, pa.ArrowException) as error:
            raise BenchmarkError(
                f"benchmark {spec.name!r}: cannot read {path!r}: {error}"
            ) from error
        digest.update(data)
        found: set[str] = set()
        for row in rows:
            item = _lookup(row, field_map.id_field) if field_map.id_field else _MISSING
            item_id = str(row_number if item is _MISSING else item)
            row_number += 1
            for name in field_map.fields:
                value = _lookup(row, name)
                if value is _MISSING:
                    continue
                found.add(name)
                strings = _strings(value)
                texts.extend((item_id, text) for text in strings)
                questions.extend([name in question_fields] * len(strings))
        if not rows:
            continue
        present = sorted(rows[0]) if isinstance(rows[0], dict) else []
        if not found:
            raise BenchmarkError(
                f"benchmark {spec.name!r}: {path!r} has no field(s) {list(field_map.fields)}; "
                f"its records have {present}"
            )
        missing = field_map.missing_fields(found)
        if missing:
            warnings.append(
                f"benchmark {spec.name!r}: {path!r} has no field(s) {missing}, read without "
                f"them; its records have {present}"
            )
    return BenchmarkTexts(spec.name, texts, digest.hexdigest(), row_number, questions, warnings)


@dataclass
class BenchmarkIndex:
    """Sorted n-gram hashes of all benchmarks, with the benchmark and item of each."""

    names: list[str]
    hashes: np.ndarray
    owners: np.ndarray  # index into names
    items: list[str]  # item id of each hash
    lengths: tuple[int, ...]
    stats: dict[str, Any] = field(default_factory=dict)
    #: n-grams shorter than this are whole questions: they match whole lines only
    min_ngram: int = 0

    def __post_init__(self) -> None:
        # a hash table over the n-grams (numpy's searchsorted on uint64 is ~15x slower),
        # behind a one-probe filter on the top bits that rejects most other hashes cheaply
        self._table = pd.Index(self.hashes)
        bits = int(np.clip(np.ceil(np.log2(max(len(self.hashes), 1) * 32)), 16, 25))
        self._shift = np.uint64(64 - bits)
        self._filter = np.zeros(1 << bits, dtype=bool)
        self._filter[self.hashes >> self._shift] = True

    def positions(self, hashes: np.ndarray) -> np.ndarray:
        """Index position of each hash, -1 for hashes that are not benchmark n-grams."""
        result = np.full(len(hashes), -1, dtype=np.intp)
        candidates = np.flatnonzero(self._filter[hashes >> self._shift])
        if len(candidates):
            result[candidates] = self._table.get_indexer(hashes[candidates])
        return result

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        return self.positions(hashes) >= 0

    def origin(self, ngram_hash: int) -> tuple[str, str]:
        """``(benchmark, item id)`` that first produced an n-gram of the index."""
        position = int(self.positions(np.array([ngram_hash], dtype=np.uint64))[0])
        if position < 0:
            raise KeyError(ngram_hash)
        return self.names[int(self.owners[position])], self.items[position]


def build_index(
    specs: tuple[BenchmarkSpec, ...], ngram: int, min_ngram: int, min_question_tokens: int = 0
) -> BenchmarkIndex:
    """Load the benchmarks and index their n-grams (see the module docstring); questions of
    ``min_question_tokens`` up to ``min_ngram`` tokens are whole-line n-grams (0: none)."""
    hash_parts: list[np.ndarray] = []
    owner_parts: list[np.ndarray] = []
    items: list[str] = []
    lengths: set[int] = set()
    stats: dict[str, Any] = {}
    for owner, spec in enumerate(specs):
        loaded = load_benchmark(spec)
        counts: Counter = Counter(items=loaded.items, texts=len(loaded.texts))
        tokens = tokenize([text for _, text in loaded.texts])
        token_hashes, offsets = tokens.hashes, tokens.offsets
        sizes = np.diff(offsets)
        short = sizes < min_ngram
        whole = (
            short
            & np.asarray(loaded.questions, dtype=bool)
            & (sizes >= max(min_question_tokens, 1))
        )
        if not min_question_tokens:
            whole[:] = False
        counts["questions_whole_line"] = int(whole.sum())
        counts["texts_too_short"] = int((short & ~whole).sum())
        text_of_token = np.repeat(np.arange(len(sizes)), sizes)
        # long texts give all their ngram-grams; a shorter one (>= min_ngram, or a whole
        # question) is one n-gram of its full length
        full_length = (sizes >= min_ngram) | whole
        wanted = {ngram} | {int(size) for size in sizes[full_length] if size < ngram}
        for length, (starts, windows) in document_ngrams(token_hashes, offsets, wanted).items():
            texts = text_of_token[starts]
            keep = sizes[texts] >= ngram if length == ngram else sizes[texts] == length
            if length != ngram:
                keep &= (starts == offsets[texts]) & full_length[texts]
            if not keep.any():
                continue
            lengths.add(length)
            hash_parts.append(windows[keep])
            owner_parts.append(np.full(int(keep.sum()), owner, dtype=np.int32))
            items.extend(loaded.texts[text][0] for text in texts[keep])
        stats[spec.name] = {**counts, "sha256": loaded.sha256}
        if loaded.warnings:
            stats[spec.name]["warnings"] = loaded.warnings
    hashes = np.concatenate(hash_parts) if hash_parts else np.empty(0, dtype=np.uint64)
    owners = np.concatenate(owner_parts) if owner_parts else np.empty(0, dtype=np.int32)
    order = np.argsort(hashes, kind="stable")
    hashes, owners = hashes[order], owners[order]
    first = np.ones(len(hashes), dtype=bool)
    first[1:] = hashes[1:] != hashes[:-1]
    kept = order[first]
    per_owner = np.bincount(owners[first], minlength=len(specs))
    for owner, spec in enumerate(specs):
        stats[spec.name]["ngrams"] = int(per_owner[owner])
    return BenchmarkIndex(
        names=[spec.name for spec in specs],
        hashes=hashes[first],
        owners=owners[first],
        items=[items[i] for i in kept],
        lengths=tuple(sorted(lengths)),
        stats=stats,
        min_ngram=min_ngram,
    )


#: what may stand before a whole-line question: a number or "Q"/"Question" label
_LINE_LABEL = re.compile(
    r"\s*(?:(?:q|question)\s*\d*|\d{1,4}|[a-z])?\s*[.:)\]-]?\s*", re.IGNORECASE
)
#: what may follow it on its line: answer choices with labels, "(A) Mercury (B) Venus"
_INLINE_CHOICES = re.compile(r"[\s?.:!]*(?:\([A-Ea-e1-5]\)|\[[A-Ea-e1-5]\]|[A-Ea-e1-5][.)])\s")


def whole_line(text: str, start: int, end: int) -> bool:
    """True when ``text[start:end]`` is all of its line but for punctuation, spaces, a
    leading label (``Q:``, ``Question 3.``, ``12)``) and labelled answer choices after it
    (``(A) Mercury (B) Venus``): how a question stands in a test page."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    if not _LINE_LABEL.fullmatch(text, line_start, start):
        return False
    rest = text[end:line_end]
    return not any(c.isalnum() for c in rest) or _INLINE_CHOICES.match(rest) is not None
