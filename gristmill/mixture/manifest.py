"""``out/manifest.json``: what a trainer (and a reviewer) needs to trust the shards.

It records the tokenizer (path, sha256, vocabulary, special ids, training parameters and
sample, with each source's target and realised share of it), the row layout (``seq_len``,
row length, dtype, padding id), the seed, the weights and where they came from, target vs
realised shares (``weights_realised``, flagged beyond 0.005, with the shortfall policy's
note), the plan (per source: tokens available and taken, epochs), the
shard list with row counts and sha256, the config fingerprint and gristmill's version.
:func:`describe_manifest` renders it for ``gristmill inspect``; :func:`verify_manifest`
rechecks every sha256 and row count for ``gristmill verify``.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from typing import Any

from rich.console import Group
from rich.table import Table

from gristmill import __version__
from gristmill.mixture.arrow_files import map_table
from gristmill.records import file_sha256, read_json

MANIFEST_FILE = "manifest.json"
SHARDS_DIR = "shards"
FORMAT = "gristmill-mixture/1"

COLUMNS = {
    "input_ids": "fixed_size_list<dtype, row_length>: token ids of one source's documents "
    "back to back, each ending with EOS (a document cut to meet the source's target ends "
    "without it); positions past num_tokens hold pad_id",
    "num_tokens": "int32: tokens of the row that are not padding (a prefix of the row)",
    "source": "int16: the row's source (index into 'sources'); every row holds one source",
    "doc_start": "fixed_size_list<bool, row_length>: true where a document, or the rest of "
    "one, begins (the first token of a row is always one)",
}


def build_manifest(
    *,
    config: Any,
    settings: Any,
    index: dict[str, Any],
    plan: Any,
    resolution: Any,
    source_names: list[str],
    shards: list[dict[str, Any]],
    shard_paths: list[str],
    dtype: str,
    pad_id: int,
    fingerprint: str,
    megatron: dict[str, Any] | None,
) -> dict[str, Any]:
    by_source = [0] * len(source_names)
    shard_entries = []
    for path, record in zip(shard_paths, shards, strict=True):
        by_source = [a + b for a, b in zip(by_source, record["tokens_by_source"], strict=True)]
        shard_entries.append(
            {
                "path": path,
                "rows": record["rows"],
                "bytes": record["bytes"],
                "sha256": record["sha256"],
                "tokens_by_source": dict(
                    zip(source_names, record["tokens_by_source"], strict=True)
                ),
            }
        )
    return {
        "format": FORMAT,
        "gristmill_version": __version__,
        "config_fingerprint": config.fingerprint(),
        "mixture_fingerprint": fingerprint,
        "tokenizer": index["tokenizer"],
        "seq_len": settings.seq_len,
        "row_length": settings.row_length,
        "next_token_targets": settings.next_token_targets,
        "documents_cross_rows": settings.documents_cross_rows,
        "dtype": dtype,
        "pad_id": pad_id,
        "eos_id": index["tokenizer"]["special_tokens"]["eos"]["id"],
        "seed": settings.seed,
        "sources": source_names,
        "weights": resolution.weights,
        "weights_origin": resolution.origin,
        "weights_realised": weights_realised(plan.summary()),
        "preset": settings.preset,
        "categories": resolution.categories,
        "dropped_categories": resolution.dropped_categories,
        "plan": plan.summary(),
        "totals": {
            "shards": len(shard_entries),
            "rows": plan.rows,
            "tokens": sum(by_source),
            "padding_tokens": plan.padding_tokens,
            "tokens_by_source": dict(zip(source_names, by_source, strict=True)),
        },
        "columns": COLUMNS,
        "shards": shard_entries,
        "megatron": megatron,
    }


def weights_realised(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per source: the target share, the realised share of tokens, their difference, whether
    it is beyond the tolerance, and the shortfall policy's note when one applied."""
    tolerance = plan["weight_tolerance"]
    return {
        name: {
            "target": source["weight"],
            "realised": source["realised_weight"],
            "deviation": source["deviation"],
            "beyond_tolerance": abs(source["deviation"]) > tolerance,
            "note": source["note"],
        }
        for name, source in plan["sources"].items()
    }


def load_manifest(path: str) -> tuple[dict[str, Any], str]:
    """The manifest of an output folder (or the manifest file itself) and its folder."""
    if path.rstrip("/").endswith(".json"):
        url, root = path, posixpath.dirname(path.rstrip("/"))
    else:
        url, root = posixpath.join(path, MANIFEST_FILE), path
    manifest = read_json(url)
    if manifest is None:
        raise FileNotFoundError(
            f"{url}: no mixture manifest (run a config with a 'mixture:' section)"
        )
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{url}: unknown manifest format {manifest.get('format')!r}")
    return manifest, root


def plan_table(plan: dict[str, Any], origin: str = "") -> Table:
    """Per source: target weight, realised share (red beyond the tolerance), documents,
    tokens available and taken, epochs (whole epochs + documents sampled after them) and
    rows."""
    table = Table(
        title=f"mixture plan · {plan['tokens']:,} tokens in {plan['rows']:,} rows of "
        f"{plan['row_length']}" + (f" · weights: {origin}" if origin else "")
    )
    for column in ("source", "weight", "realised", "docs", "available", "taken", "epochs",
                   "whole+docs", "rows"):  # fmt: skip
        table.add_column(column, justify="left" if column == "source" else "right")
    tolerance = plan["weight_tolerance"]
    for name, source in plan["sources"].items():
        realised = f"{source['realised_weight']:.4f}"
        if abs(source["deviation"]) > tolerance:
            realised = f"[bold red]{realised} ({source['deviation']:+.4f})[/]"
        table.add_row(
            name,
            f"{source['weight']:.4f}",
            realised,
            f"{source['docs']:,}",
            f"{source['tokens_available']:,}",
            f"{source['tokens_taken']:,}",
            f"{source['epochs']:.3f}",
            f"{source['whole_epochs']} + {source['fraction_docs']:,}",
            f"{source['rows']:,}",
        )
    captions = []
    if plan.get("padding_tokens"):
        captions.append(f"padding: {plan['padding_tokens']:,} tokens")
    captions.append(f"largest |realised - weight|: {plan['max_deviation']:.4f} "
                    f"(tolerance {tolerance})")  # fmt: skip
    captions.extend(f"[bold red]warning:[/] {warning}" for warning in plan.get("warnings", []))
    table.caption = "\n".join(captions)
    return table


def describe_manifest(path: str) -> Group:
    """A terminal summary of ``out/manifest.json`` (for ``gristmill inspect out/``)."""
    manifest, _ = load_manifest(path)
    tokenizer = manifest["tokenizer"]
    totals = manifest["totals"]
    head = Table(title="mixture shards", show_header=False)
    head.add_column("key")
    head.add_column("value")
    rows = [
        ("tokenizer", f"{tokenizer['backend']} · {tokenizer['path']} · vocab "
                      f"{tokenizer['vocab_size']:,} · sha256 {tokenizer['sha256'][:16]}…"),
        ("rows", f"{totals['rows']:,} × {manifest['row_length']} ({manifest['dtype']}), "
                 f"seq_len {manifest['seq_len']}"
                 + (" + 1 for next-token targets" if manifest["next_token_targets"] else "")),
        ("packing", "documents cross rows" if manifest["documents_cross_rows"]
                    else "no document crosses a row (padded)"),
        ("tokens", f"{totals['tokens']:,} + {totals['padding_tokens']:,} padding (pad id "
                   f"{manifest['pad_id']})"),
        ("shards", f"{totals['shards']:,} under {SHARDS_DIR}/ · "
                   f"{sum(s['bytes'] for s in manifest['shards']) / 1e6:,.1f} MB"),
        ("seed", str(manifest["seed"])),
        ("weights", manifest["weights_origin"]),
        ("config", manifest["config_fingerprint"][:16] + "…"),
        ("gristmill", manifest["gristmill_version"]),
    ]  # fmt: skip
    if manifest.get("megatron"):
        rows.append(("megatron --data-path", manifest["megatron"]["data_path"]))
    for key, value in rows:
        head.add_row(key, value)
    return Group(head, plan_table(manifest["plan"], manifest["weights_origin"]))


@dataclass
class Verification:
    checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_manifest(path: str) -> Verification:
    """Recheck the sha256 and row count of every shard, and the tokenizer files."""
    manifest, root = load_manifest(path)
    result = Verification()
    for shard in manifest["shards"]:
        url = posixpath.join(root, shard["path"])
        result.checked += 1
        digest = file_sha256(url)
        if digest is None:
            result.problems.append(f"{shard['path']}: missing")
            continue
        if digest != shard["sha256"]:
            result.problems.append(f"{shard['path']}: sha256 {digest} != {shard['sha256']}")
            continue
        rows = map_table(url).num_rows
        if rows != shard["rows"]:
            result.problems.append(
                f"{shard['path']}: {rows} rows, the manifest says {shard['rows']}"
            )
    files = dict(manifest["tokenizer"].get("files", {}))
    for entry in (manifest.get("megatron") or {}).get("sources", {}).values():
        files[entry["prefix"] + ".bin"] = entry["bin_sha256"]
        files[entry["prefix"] + ".idx"] = entry["idx_sha256"]
    for relative, expected in files.items():
        result.checked += 1
        digest = file_sha256(posixpath.join(root, relative))
        if digest != expected:
            result.problems.append(f"{relative}: " + ("missing" if digest is None else
                                   f"sha256 {digest} != {expected}"))  # fmt: skip
    total = sum(shard["rows"] for shard in manifest["shards"])
    if total != manifest["totals"]["rows"]:
        result.problems.append(
            f"shards hold {total} rows, the totals say {manifest['totals']['rows']}"
        )
    return result
