"""The mixture stage of a run: token counts → plan → packed shards → manifest.

Called by the runner after the tokenizer stage. It reads ``out/tokens/index.json`` (the
tokenizer stage's contract), gathers per-document token counts with a Dask task per token
shard, plans the mixture on the client (:mod:`gristmill.mixture.planner`), prints the
plan, writes it to ``out/work/mixture/plan.arrow``, builds every output shard with one
Dask task (:mod:`gristmill.mixture.writer`), and writes ``out/manifest.json``. Shards
whose marker matches the plan's fingerprint are kept on a re-run.
"""

from __future__ import annotations

import posixpath
import time
from typing import Any

import numpy as np
import pyarrow as pa
from rich.console import Console

from gristmill import __version__
from gristmill.io.writers import MARKER_SUFFIX, ShardWriter, read_marker, write_marker
from gristmill.mixture.arrow_files import map_table
from gristmill.mixture.config import MixtureConfig
from gristmill.mixture.manifest import MANIFEST_FILE, SHARDS_DIR, build_manifest, plan_table
from gristmill.mixture.megatron import MegatronTask, export_source, megatron_prefix
from gristmill.mixture.planner import MixturePlan, SourceTokens, plan_mixture
from gristmill.mixture.weights import MixtureError, resolve_weights
from gristmill.mixture.writer import PLAN_SCHEMA, ShardTask, write_shard
from gristmill.records import fingerprint, read_json, write_json
from gristmill.storage import url_to_fs

TOKEN_INDEX_FILE = "tokens/index.json"
PLAN_FILE = "work/mixture/plan.arrow"


def token_lengths(url: str) -> np.ndarray:
    """``n_tokens`` of every document of a token shard (a Dask task)."""
    return map_table(url).column("n_tokens").to_numpy().astype(np.int64)


def run_mixture_stage(
    config: Any,
    client: Any,
    data_files: dict[str, list[str]],
    resume: bool = True,
    console: Console | None = None,
) -> dict[str, Any]:
    """Plan and write the mixture; returns the summary recorded in ``run.json``."""
    settings: MixtureConfig = config.mixture
    console = console or Console(stderr=True)
    started = time.perf_counter()
    index = read_json(posixpath.join(config.output, TOKEN_INDEX_FILE))
    if index is None:
        raise MixtureError(
            f"{config.source_file}: mixture: no token shards at "
            f"{posixpath.join(config.output, TOKEN_INDEX_FILE)}; the mixture stage reads the "
            "tokenizer stage's output: add a 'tokenizer:' section (with encode: true)"
        )
    names = [source.name for source in config.sources]
    missing = [name for name in names if name not in index["sources"]]
    if missing:
        raise MixtureError(f"sources {missing} have no token shards in {TOKEN_INDEX_FILE}")
    stale = [
        name
        for name, urls in data_files.items()
        if name in index["sources"] and len(urls) != len(index["sources"][name])
    ]
    if stale:
        raise MixtureError(
            f"{TOKEN_INDEX_FILE} does not list the current shards of sources {stale}; "
            "re-run with tokenizer.encode: true"
        )
    sources = _source_tokens(config.output, index, names, client)
    resolution = resolve_weights(
        {source.name: source.weight for source in config.sources},
        {s.name: s.tokens for s in sources},
        settings.preset,
        settings.categories,
    )
    plan = plan_mixture(
        sources,
        resolution.weights,
        settings.total_tokens,
        settings.max_epochs,
        settings.on_shortfall,
        settings.seed,
        settings.row_length,
        settings.documents_cross_rows,
    )
    plan_s = time.perf_counter() - started
    console.print(plan_table(plan.summary(), resolution.origin))

    dtype = index["dtype"]
    tokenizer = index["tokenizer"]
    special = tokenizer["special_tokens"]
    pad_id = settings.pad_id
    if pad_id is None:
        pad_id = special["pad"]["id"] if "pad" in special else special["eos"]["id"]
    mixture_fingerprint = fingerprint(
        {
            "version": __version__,
            "mixture": settings.model_dump(mode="json", exclude={"megatron"}),
            "tokens": index["fingerprint"],
            "weights": resolution.weights,
            "pad_id": pad_id,
        }
    )
    token_urls = tuple(posixpath.join(config.output, path) for s in sources for path in s.files)
    plan_url = posixpath.join(config.output, PLAN_FILE)
    _write_plan(plan_url, plan, sources, mixture_fingerprint, resume)

    tasks = _shard_tasks(config.output, plan, settings.shard_rows, plan_url, token_urls,
                         dtype, pad_id, len(sources), mixture_fingerprint)  # fmt: skip
    records: dict[int, dict[str, Any]] = {}
    pending: list[ShardTask] = []
    for task in tasks:
        marker = read_marker(task.url) if resume else None
        if marker is not None and marker.get("fingerprint") == task.fingerprint:
            records[task.index] = marker["stats"]
        else:
            pending.append(task)
    write_started = time.perf_counter()
    futures = client.map(
        write_shard, pending, key=[f"mixture-shard-{t.index}-{t.fingerprint[:12]}" for t in pending],
        retries=2,
    )  # fmt: skip
    for task, record in zip(pending, client.gather(futures), strict=True):
        records[task.index] = record
    write_s = time.perf_counter() - write_started
    _remove_stale_shards(config.output, {task.url for task in tasks})

    megatron = None
    if settings.megatron:
        megatron = _export_megatron(
            config.output, sources, resolution.weights, dtype, index["fingerprint"], client
        )
    manifest = build_manifest(
        config=config,
        settings=settings,
        index=index,
        plan=plan,
        resolution=resolution,
        source_names=[s.name for s in sources],
        shards=[records[task.index] for task in tasks],
        shard_paths=[posixpath.relpath(task.url, config.output) for task in tasks],
        dtype=dtype,
        pad_id=pad_id,
        fingerprint=mixture_fingerprint,
        megatron=megatron,
    )
    write_json(posixpath.join(config.output, MANIFEST_FILE), manifest)
    written_tokens = sum(records[t.index]["tokens"] for t in pending)
    task_s = sum(records[t.index]["seconds"] for t in pending)
    return {
        "manifest": MANIFEST_FILE,
        "fingerprint": mixture_fingerprint,
        "shards": len(tasks),
        "shards_resumed": len(tasks) - len(pending),
        "rows": plan.rows,
        "tokens": int(plan.n_tokens.sum()),
        "padding_tokens": plan.padding_tokens,
        "weights": {name: round(w, 6) for name, w in resolution.weights.items()},
        "weights_origin": resolution.origin,
        "plan": plan.summary(),
        "plan_s": round(plan_s, 3),
        "write_s": round(write_s, 3),
        "writer_tokens_per_s": round(written_tokens / write_s) if pending and write_s else None,
        "writer_tokens_per_s_per_core": round(written_tokens / task_s) if task_s else None,
        "megatron": megatron,
    }


def _source_tokens(
    output: str, index: dict[str, Any], names: list[str], client: Any
) -> list[SourceTokens]:
    entries = [(name, entry) for name in names for entry in index["sources"][name]]
    urls = [posixpath.join(output, entry["path"]) for _, entry in entries]
    lengths = client.gather(client.map(token_lengths, urls, pure=False)) if urls else []
    by_source: dict[str, list[tuple[dict[str, Any], np.ndarray]]] = {name: [] for name in names}
    for (name, entry), n_tokens, url in zip(entries, lengths, urls, strict=True):
        if n_tokens.size != entry["docs"] or int(n_tokens.sum()) != entry["tokens"]:
            raise MixtureError(f"{url}: differs from {TOKEN_INDEX_FILE}; re-run the tokenizer")
        by_source[name].append((entry, n_tokens))
    return [
        SourceTokens(
            name=name,
            files=tuple(entry["path"] for entry, _ in parts),
            doc_counts=tuple(int(n.size) for _, n in parts),
            n_tokens=np.concatenate([n for _, n in parts]) if parts else np.zeros(0, np.int64),
        )
        for name, parts in by_source.items()
    ]


def _write_plan(
    url: str, plan: MixturePlan, sources: list[SourceTokens], fingerprint: str, resume: bool
) -> None:
    marker = read_marker(url) if resume else None
    if marker is not None and marker.get("fingerprint") == fingerprint:
        return
    file_offset = np.cumsum([0] + [len(s.files) for s in sources])
    file_of = np.zeros(plan.doc.size, dtype=np.int32)
    row_of = np.zeros(plan.doc.size, dtype=np.int32)
    for index, s in enumerate(sources):
        mine = plan.source == index
        starts = np.concatenate([[0], np.cumsum(s.doc_counts)])
        local = np.searchsorted(starts, plan.doc[mine], side="right") - 1
        file_of[mine] = file_offset[index] + local
        row_of[mine] = plan.doc[mine] - starts[local]
    table = pa.Table.from_arrays(
        [
            pa.array(plan.source.astype(np.int16)),
            pa.array(file_of),
            pa.array(row_of),
            pa.array(plan.offset),
            pa.array(plan.n_tokens.astype(np.int32)),
            pa.array(plan.position),
        ],
        schema=PLAN_SCHEMA,
    )
    with ShardWriter(url, "arrow") as writer:
        writer.write(table)
    write_marker(url, {"fingerprint": fingerprint, "stats": {"instances": table.num_rows}})


def _shard_tasks(
    output: str,
    plan: MixturePlan,
    shard_rows: int,
    plan_url: str,
    token_urls: tuple[str, ...],
    dtype: str,
    pad_id: int,
    num_sources: int,
    plan_fingerprint: str,
) -> list[ShardTask]:
    length = plan.row_length
    tasks = []
    for index, row_start in enumerate(range(0, plan.rows, shard_rows)):
        rows = min(shard_rows, plan.rows - row_start)
        begin, stop = row_start * length, (row_start + rows) * length
        tasks.append(
            ShardTask(
                index=index,
                url=posixpath.join(output, SHARDS_DIR, f"part-{index:05d}.arrow"),
                plan_url=plan_url,
                plan_start=int(np.searchsorted(plan.position, begin, side="left")),
                plan_stop=int(np.searchsorted(plan.position, stop, side="left")),
                row_start=row_start,
                rows=rows,
                row_length=length,
                token_urls=token_urls,
                dtype=dtype,
                pad_id=pad_id,
                num_sources=num_sources,
                fingerprint=fingerprint([plan_fingerprint, index]),
            )
        )
    return tasks


def _remove_stale_shards(output: str, current: set[str]) -> None:
    fs, root = url_to_fs(posixpath.join(output, SHARDS_DIR))
    if not fs.exists(root):
        return
    keep = {url_to_fs(url)[1] for url in current}
    for path in fs.ls(root, detail=False):
        shard = path[: -len(MARKER_SUFFIX)] if path.endswith(MARKER_SUFFIX) else path
        if shard not in keep:
            fs.rm(path)


def _export_megatron(
    output: str,
    sources: list[SourceTokens],
    weights: dict[str, float],
    dtype: str,
    tokens_fingerprint: str,
    client: Any,
) -> dict[str, Any]:
    tasks = [
        MegatronTask(
            source=s.name,
            token_urls=tuple(posixpath.join(output, path) for path in s.files),
            prefix_url=megatron_prefix(output, s.name),
            dtype=dtype,
            fingerprint=fingerprint([tokens_fingerprint, s.name, dtype]),
        )
        for s in sources
        if weights.get(s.name, 0) > 0
    ]
    results = client.gather(client.map(export_source, tasks, pure=False))
    prefixes = [posixpath.relpath(t.prefix_url, output) for t in tasks]
    return {
        "data_path": " ".join(
            f"{weights[t.source]:.6g} {prefix}" for t, prefix in zip(tasks, prefixes, strict=True)
        ),
        "sources": {
            r["source"]: {**r, "prefix": p} for r, p in zip(results, prefixes, strict=True)
        },
    }
