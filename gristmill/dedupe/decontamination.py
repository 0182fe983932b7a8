"""Benchmark decontamination: remove evaluation-set text from the training data.

The dataset-contamination step of the survey (§4.1.2), following GPT-3 (Brown et al. 2020,
appendix C) and NeMo Curator's ``TaskDecontamination`` (after Turing-NLG / MT-NLG): the
normalised 13-grams of benchmark test sets (shorter texts as one n-gram of their full
length, down to 8 tokens; see :mod:`gristmill.dedupe.benchmarks`) are looked up in every
training document. A question shorter than ``min_ngram`` tokens (down to
``min_question_tokens``) matches only as a whole line of a document, its exact normalised
text (a label before it and labelled answer choices after it allowed) (with ``short_questions: whole_line``, the default; ``skip`` ignores short questions,
as GPT-3 and NeMo Curator do).

- ``collect``: per document, the benchmark n-grams it contains (one sentinel row when none).
- ``resolve`` (Dask): counts in how many documents each n-gram occurs across the whole run;
  n-grams in more than ``max_ngram_docs`` documents are common phrases (a licence line, a
  famous quotation) and are ignored; the remaining matches are written per shard.
- ``apply``: ``drop_document`` removes a matching document as ``<step>:contaminated``;
  ``remove_span`` (the default) cuts every match with ``window_chars`` (200) on each side,
  keeps the fragments of at least ``min_fragment_chars`` (200) characters, joined by a blank
  line, and drops documents split more than ``max_splits`` (10) times
  (``<step>:too_many_splits``) or left with no fragment (``<step>:too_short``).

Each removal records which benchmark items matched, with the first matching n-gram and the
number of n-grams: in the ``contamination`` column (JSON) of rejected rows, under
``decontamination`` in the meta of edited documents, and as ``matches:<benchmark>``
counters (documents × items); ``ngram_matches``, ``spans_removed`` and ``chars_removed``
count the rest. The resolve summary (``global_steps`` of the run record and the report)
gives per benchmark its items, texts, n-grams, whole-line questions, texts too short to
index and matched (document, n-gram) pairs, and one warning per benchmark file that lacks
configured fields (shown in the run summary). Everything is a function of the document and
the global n-gram counts, so the output does not depend on the shard split or the worker
count.
"""

from __future__ import annotations

import functools
import json
import os
from collections import Counter
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import Field, model_validator

from gristmill.dedupe.benchmarks import BenchmarkIndex, BenchmarkSpec, build_index, whole_line
from gristmill.dedupe.ngrams import MAX_NGRAM, document_ngrams, normalized_text, tokenize
from gristmill.dedupe.shard_parts import files_with_rows, read_shard_part, write_shard_parts
from gristmill.dedupe.span_removal import merge_spans
from gristmill.documents import decode_meta, encode_meta
from gristmill.records import files_digest
from gristmill.steps import GlobalStep, StepResult, split_by_reasons
from gristmill.storage import options_for

MATCHES_DIR = "matches"
META_KEY = "decontamination"
REJECTED_COLUMN = "contamination"
#: matched benchmark items recorded per document in meta / the rejected column
MAX_RECORDED = 20
#: how far a window edge may move outwards to reach whitespace (no half words left behind)
_SNAP_CHARS = 40


@functools.lru_cache(maxsize=4)
def _cached_index(key: str) -> BenchmarkIndex:
    params = json.loads(key)
    specs = tuple(BenchmarkSpec.model_validate(spec) for spec in params["benchmarks"])
    return build_index(specs, params["ngram"], params["min_ngram"], params["min_question_tokens"])


class Decontaminate(GlobalStep):
    """Remove benchmark test-set n-grams (GPT-3 appendix C; NeMo Curator windows)."""

    name = "decontaminate"

    benchmarks: tuple[BenchmarkSpec, ...] = Field(min_length=1)
    ngram: int = Field(13, ge=1, le=MAX_NGRAM)
    min_ngram: int = Field(8, ge=1, le=MAX_NGRAM)
    mode: Literal["remove_span", "drop_document"] = "remove_span"
    window_chars: int = Field(200, ge=0)
    min_fragment_chars: int = Field(200, ge=0)
    max_splits: int = Field(10, ge=0)
    max_ngram_docs: int = Field(10, ge=1)
    #: questions under ``min_ngram`` tokens: match as a whole line of a document, or skip
    short_questions: Literal["whole_line", "skip"] = "whole_line"
    min_question_tokens: int = Field(3, ge=1)

    @model_validator(mode="after")
    def _lengths_in_order(self) -> Decontaminate:
        if self.min_ngram > self.ngram:
            raise ValueError(f"min_ngram ({self.min_ngram}) exceeds ngram ({self.ngram})")
        names = [spec.name for spec in self.benchmarks]
        if len(set(names)) != len(names):
            raise ValueError(f"benchmark names must be unique, got {names}")
        return self

    def input_files(self) -> tuple[str, ...]:
        return tuple(spec.path for spec in self.benchmarks)

    def with_base_dir(self, base_dir: str | os.PathLike[str]) -> Decontaminate:
        """The same step with relative benchmark paths made relative to ``base_dir`` (the
        folder of the config file that names them)."""
        specs = tuple(
            spec if "://" in spec.path or os.path.isabs(spec.path)
            else spec.model_copy(update={"path": os.path.join(os.fspath(base_dir), spec.path)})
            for spec in self.benchmarks
        )  # fmt: skip
        return self.model_copy(update={"benchmarks": specs})

    def index(self) -> BenchmarkIndex:
        """The benchmark n-gram index, built once per process and benchmark contents
        (never pickled)."""
        key = json.dumps(
            {
                "benchmarks": [spec.model_dump(mode="json") for spec in self.benchmarks],
                "ngram": self.ngram,
                "min_ngram": self.min_ngram,
                "min_question_tokens": (
                    self.min_question_tokens if self.short_questions == "whole_line" else 0
                ),
                "files": files_digest(self.input_files()),  # an edited file: a new index
            },
            sort_keys=True,
        )
        return _cached_index(key)

    def collect(self, batch: pa.Table) -> pa.Table:
        index = self.index()
        tokens = tokenize(batch.column("text").to_pylist())
        text_of_token = np.repeat(np.arange(batch.num_rows), np.diff(tokens.offsets))
        texts = batch.column("text").to_pylist()
        documents, hashes = [], []
        for length, (starts, windows) in document_ngrams(
            tokens.hashes, tokens.offsets, index.lengths
        ).items():
            hit = np.flatnonzero(index.contains(windows))
            if length < index.min_ngram:  # a short question: only as a whole line
                hit = hit[[_whole_line_hit(texts, tokens, text_of_token, int(starts[k]), length)
                           for k in hit]] if len(hit) else hit  # fmt: skip
            documents.append(text_of_token[starts[hit]])
            hashes.append(windows[hit])
        pairs = pd.DataFrame(
            {
                "document": np.concatenate(documents) if documents else np.empty(0, np.int64),
                "ngram": np.concatenate(hashes) if hashes else np.empty(0, np.uint64),
            }
        ).drop_duplicates()
        clean = np.setdiff1d(np.arange(batch.num_rows), pairs["document"].to_numpy())
        document = np.concatenate([pairs["document"].to_numpy(), clean])
        ngram = np.concatenate([pairs["ngram"].to_numpy(), np.zeros(len(clean), np.uint64)])
        order = np.lexsort((ngram, document))
        return pa.table(
            {"id": batch.column("id").take(pa.array(document[order])), "ngram": ngram[order]}
        )

    def resolve(self, signature_paths: list[str], resolution_dir: str) -> dict[str, Any]:
        import dask.dataframe as dd

        index = self.index()
        paths = files_with_rows(signature_paths)
        if not paths:
            return {"ngrams_matched": 0, "ngrams_common": 0, **self._benchmark_summary(index)}
        signatures = dd.read_parquet(
            paths, columns=["id", "ngram", "shard"], storage_options=options_for(paths[0])
        )
        # only documents with a benchmark n-gram: small, kept in cluster memory for two passes
        matches = signatures[signatures["ngram"] != 0].persist()
        documents_per_ngram = matches.groupby("ngram").size().compute()
        common = documents_per_ngram[documents_per_ngram > self.max_ngram_docs].index
        kept = matches[~matches["ngram"].isin(np.asarray(common, dtype=np.uint64))]
        write_shard_parts(kept, resolution_dir, MATCHES_DIR)

        rare = documents_per_ngram[documents_per_ngram <= self.max_ngram_docs]
        owners = index.owners[index.positions(np.asarray(rare.index, dtype=np.uint64))]
        by_benchmark = {
            index.names[owner]: int(rare.to_numpy()[owners == owner].sum())
            for owner in np.unique(owners)
        }
        return {
            "ngrams_matched": len(documents_per_ngram),
            "ngrams_common": len(common),
            "matched_pairs_by_benchmark": dict(sorted(by_benchmark.items())),
            **self._benchmark_summary(index),
        }

    def _benchmark_summary(self, index: BenchmarkIndex) -> dict[str, Any]:
        """Per-benchmark index counts, and the warnings of files lacking fields."""
        warnings = [w for stats in index.stats.values() for w in stats.get("warnings", ())]
        summary: dict[str, Any] = {"benchmarks": index.stats}
        if warnings:
            summary["warnings"] = warnings
        return summary

    def load(self, resolution_dir: str, shard_key: str) -> dict[str, set[int]]:
        table = read_shard_part(resolution_dir, MATCHES_DIR, shard_key, ["id", "ngram"])
        if table is None:
            return {}
        matches: dict[str, set[int]] = {}
        for doc_id, ngram in zip(
            table.column("id").to_pylist(), table.column("ngram").to_pylist(), strict=True
        ):
            matches.setdefault(doc_id, set()).add(ngram)
        return matches

    def apply(self, batch: pa.Table, state: dict[str, set[int]], step_id: str) -> StepResult:
        if not state or batch.num_rows == 0:
            return StepResult(kept=batch)
        ids = batch.column("id").to_pylist()
        if not any(doc_id in state for doc_id in ids):
            return StepResult(kept=batch)
        index = self.index()
        texts = batch.column("text").to_pylist()
        metas = batch.column("meta").to_pylist()
        reasons: list[str | None] = [None] * len(ids)
        recorded: dict[int, str] = {}
        counters: Counter = Counter()
        rows = [row for row, doc_id in enumerate(ids) if doc_id in state]
        found_in = _find_matches(
            [texts[row] for row in rows], [state[ids[row]] for row in rows], index
        )
        for row, (spans, record) in zip(rows, found_in, strict=True):
            if not spans:
                continue
            counters["docs_matched"] += 1
            counters["ngram_matches"] += len(spans)
            counters.update(f"matches:{match['benchmark']}" for match in record)
            record = record[:MAX_RECORDED]
            recorded[row] = json.dumps(record, ensure_ascii=False, sort_keys=True)
            if self.mode == "drop_document":
                reasons[row] = "contaminated"
                continue
            windows = self._windows(texts[row], spans)
            if len(windows) > self.max_splits:
                reasons[row] = "too_many_splits"
                continue
            fragments = self._fragments(texts[row], windows)
            counters["spans_removed"] += len(windows)
            if not fragments:
                reasons[row] = "too_short"
                continue
            new_text = "\n\n".join(fragments)
            counters["chars_removed"] += len(texts[row]) - len(new_text)
            counters["docs_changed"] += 1
            texts[row] = new_text
            metas[row] = encode_meta({**decode_meta(metas[row]), META_KEY: record})
        batch = batch.set_column(
            batch.schema.get_field_index("text"), "text", pa.array(texts, pa.large_string())
        ).set_column(batch.schema.get_field_index("meta"), "meta", pa.array(metas, pa.string()))
        result = split_by_reasons(batch, reasons, step_id)
        result.counters.update(counters)
        if result.rejected is not None:  # rejected documents keep their original text
            rejected_rows = [row for row, reason in enumerate(reasons) if reason is not None]
            result.rejected = result.rejected.append_column(
                REJECTED_COLUMN, pa.array([recorded[row] for row in rejected_rows], pa.string())
            )
        return result

    def _windows(self, text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Each match widened by ``window_chars`` on both sides, snapped outwards to
        whitespace, merged where they overlap."""
        windows = []
        for start, end in spans:
            low = max(0, start - self.window_chars)
            high = min(len(text), end + self.window_chars)
            windows.append((_snap_back(text, low), _snap_forward(text, high)))
        return merge_spans(windows)

    def _fragments(self, text: str, windows: list[tuple[int, int]]) -> list[str]:
        pieces, cursor = [], 0
        for start, end in windows:
            pieces.append(text[cursor:start])
            cursor = end
        pieces.append(text[cursor:])
        return [p.strip() for p in pieces if len(p.strip()) >= self.min_fragment_chars]


def _find_matches(
    texts: list[str], wanted: list[set[int]], index: BenchmarkIndex
) -> list[tuple[list[tuple[int, int]], list[dict[str, Any]]]]:
    """Per text: the sorted character spans of its wanted n-grams, and one record per
    matched benchmark item (its first matching n-gram, and how many of its n-grams matched).
    All texts are tokenised and looked up together."""
    tokens = tokenize(texts)
    text_of_token = np.repeat(np.arange(len(texts)), np.diff(tokens.offsets))
    hits: list[list[tuple[int, int, int, int]]] = [[] for _ in texts]  # start, end, first, n
    positions: list[list[int]] = [[] for _ in texts]
    for length, (starts, windows) in sorted(
        document_ngrams(tokens.hashes, tokens.offsets, index.lengths).items()
    ):
        found = index.positions(windows)
        for k in np.flatnonzero(found >= 0):
            first = int(starts[k])
            text = int(text_of_token[first])
            if int(windows[k]) not in wanted[text]:
                continue  # a common n-gram, ignored by the resolve phase
            if length < index.min_ngram and not _whole_line_hit(
                texts, tokens, text_of_token, first, length
            ):
                continue  # a short question's words inside a longer line
            last = first + length - 1
            hits[text].append((int(tokens.starts[first]), int(tokens.ends[last]), first, length))
            positions[text].append(int(found[k]))
    results = []
    for text, (text_hits, text_positions) in enumerate(zip(hits, positions, strict=True)):
        order = sorted(range(len(text_hits)), key=lambda i: text_hits[i])
        records: dict[tuple[str, str], dict[str, Any]] = {}
        for i in order:
            start, end, first, length = text_hits[i]
            key = (
                index.names[int(index.owners[text_positions[i]])],
                index.items[text_positions[i]],
            )
            if key in records:
                records[key]["ngrams"] += 1
                continue
            ngram = normalized_text(
                texts[text],
                tokens.starts[first : first + length],
                tokens.ends[first : first + length],
            )
            records[key] = {"benchmark": key[0], "item": key[1], "ngram": ngram, "ngrams": 1}
        results.append(([text_hits[i][:2] for i in order], list(records.values())))
    return results


def _whole_line_hit(
    texts: list[str], tokens: Any, text_of_token: np.ndarray, first: int, length: int
) -> bool:
    """Whether the n-gram of ``length`` tokens from token ``first`` is a whole line."""
    text = int(text_of_token[first])
    return whole_line(texts[text], int(tokens.starts[first]), int(tokens.ends[first + length - 1]))


def _snap_back(text: str, position: int) -> int:
    """Move a window start back to the whitespace before it (if within reach)."""
    reach = text.rfind(" ", max(0, position - _SNAP_CHARS), position + 1)
    newline = text.rfind("\n", max(0, position - _SNAP_CHARS), position + 1)
    best = max(reach, newline)
    return position if position == 0 or best < 0 else best


def _snap_forward(text: str, position: int) -> int:
    """Move a window end forward to the whitespace after it (if within reach)."""
    if position >= len(text):
        return len(text)
    candidates = [
        found
        for found in (text.find(" ", position, position + _SNAP_CHARS),
                      text.find("\n", position, position + _SNAP_CHARS))
        if found >= 0
    ]  # fmt: skip
    return min(candidates) if candidates else position
