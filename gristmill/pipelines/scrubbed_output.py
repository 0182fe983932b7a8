"""With a ``pii`` step configured, no raw text stays in ``work/`` once the documents are done.

The intermediate shards of a source (``work/<source>/segment-<k>/``) hold its documents
as they left segment ``k``; the segments that run before the source's ``pii`` stage hold
them unscrubbed. Once every document segment has succeeded (before the tokenizer and
mixture stages, which read only the final shards), those folders are removed with their
completion markers. A later re-run (resume) redoes those segments — the same bytes, by
construction — and reuses everything after them whose config is unchanged: resolutions of
global steps are keyed by fingerprints, not by these files, and the segments from ``pii``
on keep their shards and markers.

The other places raw text could reach are handled where they are written: documents that
stages before ``pii`` remove are scrubbed by that ``pii`` step before they are written to
``rejected/``, and so are the report samples of those stages (see
:mod:`gristmill.pipelines.segment`). Signatures and resolutions of global steps hold
hashes and ids, not text.
"""

from __future__ import annotations

from collections.abc import Iterator

from gristmill.pipelines.config import RunConfig
from gristmill.pipelines.plan import Segment, segment_work_dir
from gristmill.storage import url_to_fs

PII_STEP = "pii"


def unscrubbed_segments(config: RunConfig, plan: dict[str, list[Segment]]) -> Iterator[Segment]:
    """The segments, not the last of their source, that run before the source's ``pii``
    stage (nothing for a source without one)."""
    for source in config.sources:
        segments = plan[source.name]
        pii_segment = next(
            (
                segment.index
                for segment in segments
                if any(stage.step.name == PII_STEP for stage in segment.stages)
            ),
            None,
        )
        if pii_segment is None:
            continue
        yield from (segment for segment in segments[:pii_segment] if not segment.is_last)


def remove_unscrubbed_work(config: RunConfig, plan: dict[str, list[Segment]]) -> list[str]:
    """Delete the intermediate shards (and markers) of :func:`unscrubbed_segments`;
    returns the folders removed."""
    removed = []
    for segment in unscrubbed_segments(config, plan):
        fs, folder = url_to_fs(segment_work_dir(config, segment))
        if fs.exists(folder):
            fs.rm(folder, recursive=True)
            removed.append(folder)
    return removed
