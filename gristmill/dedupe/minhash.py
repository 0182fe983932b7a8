"""MinHash LSH near-duplicate removal at document level, on Dask, across sources.

The fuzzy document dedup of the survey (Zhao et al. 2023, §4.1.2; as in GPT-3, Gopher,
LLaMA): Broder's MinHash over word 5-gram shingles with LSH banding (Leskovec et al.,
*Mining of Massive Datasets* ch. 3), verified candidates, connected components, one
document kept per cluster. ``collect`` computes signatures per batch, vectorised
(:mod:`~gristmill.dedupe.shingles`, :mod:`~gristmill.dedupe.signatures`); ``resolve`` runs
on the cluster (:mod:`~gristmill.dedupe.near_duplicates`); ``apply`` drops the others as
``<step>:duplicate`` (or ``<step>:duplicate_of_index``), recording the kept document's id.

Defaults and their S-curve: 16 bands of 8 rows (128 permutations, datasketch's and
rensa's usual size; datatrove uses 14 x 8, RedPajama 9 x 13 for a stricter curve). The
probability that a pair of Jaccard similarity ``s`` becomes a candidate is
``1 - (1 - s**8)**16``::

    s     0.5    0.6    0.7    0.75   0.8    0.85   0.9    0.95
    P     0.061  0.237  0.613  0.815  0.947  0.994  1.000  1.000

(midpoint ``(1/16)**(1/8) = 0.71``), so pairs at the target similarity 0.8 are found 95% of
the time. Candidates are then verified on their signatures: a pair stays a duplicate when
at least ``verify_min_jaccard`` (0.75) of its 128 positions agree. The estimate's standard
error at 0.8 is ``sqrt(0.8 * 0.2 / 128) = 0.035``, so 0.75 keeps about 92% of the pairs
that really are at 0.8 (and all above 0.85) while rejecting about 89% of the candidates at
0.7 and nearly all below: about 87% of pairs exactly at 0.8 end up removed, 99% at 0.85.
A candidate must also pass a size guard: its smaller shingle set holds at least
``min_size_ratio`` (0.5) as many shingles as its larger one (a Jaccard similarity ``J``
implies a ratio of at least ``J``, so no pair truly above 0.5 is lost; a small file is never
merged into a large one on an estimate).

Numbers are kept (``numbers: keep``): short texts that differ only in their figures
("rose 18.25 points to 9,586.71" / "rose 98.74 points to 8,949.00", 15 MRPC pairs) are
distinct. datatrove's and RedPajama's normalisation maps every digit to ``0``
(``numbers: zero``), which merges them. On long documents the effect is small: each
changed number changes at most ``ngram`` shingles, so a 500-word page whose dates, prices or
counters differ in 10 places keeps a Jaccard similarity of about 0.8 and is still merged;
pages that are mostly tables of figures are merged only when the figures agree.

Profiles: ``text`` shingles words (:mod:`~gristmill.dedupe.shingles`); ``code`` drops the
leading comment block (:mod:`~gristmill.dedupe.code_headers`) and makes every ASCII
operator and bracket a word, so files sharing a licence header are compared on their code;
``auto`` (the default) uses ``code`` for documents of a ``format: code`` source (their
``meta`` holds the code reader's ``language`` and ``path``) and ``text`` for the rest. One
``minhash`` step is resolved once across every source that names it, with the same
parameters, so the profile is chosen per document rather than per source.
"""

from __future__ import annotations

import json
import os
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from gristmill.dedupe.code_headers import strip_leading_comments
from gristmill.dedupe.dedup_index import DedupIndex, index_under, other_parts_state
from gristmill.dedupe.drop_list import Drop, apply_drops, load_drops
from gristmill.dedupe.signature_files import fixed_list
from gristmill.steps import GlobalStep, StepResult

# The compiled kernels (numba) and the resolve (pandas) are imported where they are used:
# a client that only validates the config, plans and submits does not load them.

#: Text bytes hashed at once by ``collect`` (bounds its memory to a few hundred MB).
SLICE_BYTES = 8 * 1024 * 1024


class MinHashDedup(GlobalStep):
    """Drop near-duplicate documents (MinHash LSH), keeping one per cluster.

    Word 5-gram shingles (a character of Han, kana, Thai, Lao, Khmer or Myanmar is a word),
    numbers kept (``numbers: zero`` for datatrove's digits-to-0), code documents shingled
    as code tokens without their leading comment block (``profile``), candidates checked
    on their signatures and shingle counts (see the module)."""

    name = "minhash"

    ngram: int = Field(5, ge=1, description="words per shingle")
    bands: int = Field(16, ge=1, description="LSH bands")
    rows: int = Field(8, ge=1, description="signature rows per band")
    seed: int = Field(1, ge=0, description="seed of the permutations (datasketch's)")
    unicode_form: Literal["NFC", "NFKC", "NFD", "NFKD"] | None = "NFKC"
    verify_min_jaccard: float | None = Field(
        0.75, gt=0, le=1, description="signature agreement a candidate needs; null: no check"
    )
    min_size_ratio: float | None = Field(
        0.5, gt=0, le=1, description="smaller over larger shingle count a candidate needs"
    )
    numbers: Literal["keep", "zero"] = Field(
        "keep", description="keep digits, or map every digit to 0 (datatrove)"
    )
    profile: Literal["auto", "text", "code"] = Field(
        "auto",
        description="code: skip the leading comment block, operators are words; "
        "auto: code for documents of code sources",
    )
    index: str | None = Field(
        None, description="dataset index folder: dedup against it (and add this run to it)"
    )
    update_index: bool = Field(True, description="add this run's documents to the index")

    @property
    def num_perm(self) -> int:
        return self.bands * self.rows

    def with_base_dir(self, base_dir: str | os.PathLike[str]) -> MinHashDedup:
        """The same step with a relative ``index`` made relative to ``base_dir`` (the folder
        of the config file that names it)."""
        return self.model_copy(update={"index": index_under(self.index, base_dir)})

    def index_params(self) -> dict[str, Any]:
        """What keys in the index depend on: changing any of these needs a new index."""
        return {
            "ngram": self.ngram,
            "bands": self.bands,
            "rows": self.rows,
            "seed": self.seed,
            "unicode_form": self.unicode_form,
            "signature_bits": 32,
            "numbers": self.numbers,
            "profile": self.profile,
            "non_spaced": "characters",  # scripts without spaces: a character is a word
        }

    def signatures(
        self, texts: pa.Array | pa.ChunkedArray, is_code: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(signatures, shingle counts)`` of ``texts``: ``(n, bands * rows)`` uint64.
        ``is_code`` marks the documents shingled with the code profile (``profile: auto``);
        by default all documents follow the step's profile (``auto`` meaning ``text``).

        Texts are taken in slices of about :data:`SLICE_BYTES` (the vectorised code holds a
        few numbers per byte of a slice); a longer text is a slice of its own.
        """
        if is_code is None:
            is_code = np.full(len(texts), self.profile == "code")
        if is_code.all() or not is_code.any():
            return self._signatures_of(texts, code=bool(len(texts)) and bool(is_code[0]))
        signatures = np.empty((len(texts), self.num_perm), dtype=np.uint64)
        counts = np.empty(len(texts), dtype=np.int64)
        for code in (False, True):
            rows = np.flatnonzero(is_code == code)
            signatures[rows], counts[rows] = self._signatures_of(texts.take(rows), code)
        return signatures, counts

    def _signatures_of(
        self, texts: pa.Array | pa.ChunkedArray, code: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        if code:
            texts = strip_leading_comments(texts)
        sizes = pc.binary_length(texts).to_numpy(zero_copy_only=False).astype(np.int64)
        slice_of = np.cumsum(sizes) // SLICE_BYTES
        cuts = [0, *(np.flatnonzero(np.diff(slice_of)) + 1).tolist(), len(sizes)]
        from gristmill.dedupe.shingles import shingle_hashes
        from gristmill.dedupe.signatures import minhash_signatures

        signatures, counts = [], []
        for begin, end in zip(cuts[:-1], cuts[1:], strict=True):
            shingles = shingle_hashes(
                texts[begin:end],
                self.ngram,
                self.unicode_form,
                zero_digits=self.numbers == "zero",
                code_tokens=code,
            )
            signatures.append(minhash_signatures(shingles, self.num_perm, self.seed))
            counts.append(shingles.counts)
        if len(signatures) == 1:
            return signatures[0], counts[0]
        return np.concatenate(signatures), np.concatenate(counts)

    def code_documents(self, batch: pa.Table) -> np.ndarray:
        """Which documents of ``batch`` the code profile shingles."""
        if self.profile != "auto":
            return np.full(batch.num_rows, self.profile == "code")
        if "meta" not in batch.column_names:
            return np.zeros(batch.num_rows, dtype=bool)
        meta = batch.column("meta")
        candidates = pc.fill_null(pc.match_substring(meta, '"path"'), False)
        flags = candidates.to_numpy(zero_copy_only=False).copy()
        for row in np.flatnonzero(flags):
            fields = json.loads(meta[int(row)].as_py())
            flags[row] = isinstance(fields, dict) and "language" in fields and "path" in fields
        return flags

    def collect(self, batch: pa.Table) -> pa.Table:
        from gristmill.dedupe.lsh import band_keys, content_keys

        signatures, shingles = self.signatures(batch.column("text"), self.code_documents(batch))
        return pa.table(
            {
                "id": batch.column("id"),
                "shingles": pa.array(shingles.astype(np.int32)),
                "content": pa.array(content_keys(signatures)),
                "bands": fixed_list(band_keys(signatures, self.bands, self.rows)),
                # verification compares the low 32 bits (a false match: 1 in 4 billion)
                "signature": fixed_list(signatures.astype(np.uint32)),
            }
        )

    def resolution_state(self, resolution_dir: str) -> Any:
        return other_parts_state(self.index, self.name, resolution_dir)

    def resolve(self, signature_paths: list[str], resolution_dir: str) -> dict[str, Any]:
        from gristmill.dedupe.near_duplicates import ResolveSettings, resolve_near_duplicates

        index = DedupIndex(self.index, self.name, self.index_params()) if self.index else None
        settings = ResolveSettings(
            self.bands, self.num_perm, self.verify_min_jaccard, self.min_size_ratio
        )
        return resolve_near_duplicates(
            settings, signature_paths, resolution_dir, index, self.update_index
        )

    def load(self, resolution_dir: str, shard_key: str) -> dict[str, Drop]:
        return load_drops(resolution_dir, shard_key, "duplicate")

    def apply(self, batch: pa.Table, state: dict[str, Drop], step_id: str) -> StepResult:
        return apply_drops(batch, state, step_id)
