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
"""

from __future__ import annotations

import os
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import Field

from gristmill.dedupe.dedup_index import DedupIndex, index_under, other_parts_state
from gristmill.dedupe.drop_list import Drop, apply_drops, load_drops
from gristmill.dedupe.lsh import band_keys, content_keys
from gristmill.dedupe.near_duplicates import ResolveSettings, resolve_near_duplicates
from gristmill.dedupe.shingles import shingle_hashes
from gristmill.dedupe.signature_files import fixed_list
from gristmill.dedupe.signatures import minhash_signatures
from gristmill.steps import GlobalStep, StepResult

#: Text bytes hashed at once by ``collect`` (bounds its memory to a few hundred MB).
SLICE_BYTES = 8 * 1024 * 1024


class MinHashDedup(GlobalStep):
    """Drop near-duplicate documents (MinHash LSH), keeping one per cluster."""

    name = "minhash"

    ngram: int = Field(5, ge=1, description="words per shingle")
    bands: int = Field(16, ge=1, description="LSH bands")
    rows: int = Field(8, ge=1, description="signature rows per band")
    seed: int = Field(1, ge=0, description="seed of the permutations (datasketch's)")
    unicode_form: Literal["NFC", "NFKC", "NFD", "NFKD"] | None = "NFKC"
    verify_min_jaccard: float | None = Field(
        0.75, gt=0, le=1, description="signature agreement a candidate needs; null: no check"
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
        }

    def signatures(self, texts: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
        """``(signatures, shingle counts)`` of ``texts``: ``(n, bands * rows)`` uint64.

        Texts are taken in slices of about :data:`SLICE_BYTES` (the vectorised code holds a
        few numbers per byte of a slice); a longer text is a slice of its own.
        """
        sizes = pc.binary_length(texts).to_numpy(zero_copy_only=False).astype(np.int64)
        slice_of = np.cumsum(sizes) // SLICE_BYTES
        cuts = [0, *(np.flatnonzero(np.diff(slice_of)) + 1).tolist(), len(sizes)]
        signatures, counts = [], []
        for begin, end in zip(cuts[:-1], cuts[1:], strict=True):
            shingles = shingle_hashes(texts[begin:end], self.ngram, self.unicode_form)
            signatures.append(minhash_signatures(shingles, self.num_perm, self.seed))
            counts.append(shingles.counts)
        if len(signatures) == 1:
            return signatures[0], counts[0]
        return np.concatenate(signatures), np.concatenate(counts)

    def collect(self, batch: pa.Table) -> pa.Table:
        signatures, shingles = self.signatures(batch.column("text"))
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
        index = DedupIndex(self.index, self.name, self.index_params()) if self.index else None
        settings = ResolveSettings(self.bands, self.num_perm, self.verify_min_jaccard)
        return resolve_near_duplicates(
            settings, signature_paths, resolution_dir, index, self.update_index
        )

    def load(self, resolution_dir: str, shard_key: str) -> dict[str, Drop]:
        return load_drops(resolution_dir, shard_key, "duplicate")

    def apply(self, batch: pa.Table, state: dict[str, Drop], step_id: str) -> StepResult:
        return apply_drops(batch, state, step_id)
