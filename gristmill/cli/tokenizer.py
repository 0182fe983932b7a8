"""``gristmill tokenizer train CONFIG``: train the tokenizer alone, on a finished run's output.

Loads the config, finds the completed output shards of every source under
``<output>/data/<source>/`` (those with a ``.done`` marker), and runs only the sampling and
training part of the tokenizer stage on a Dask cluster (embedded or attached), writing
``<output>/tokenizer/``. Encoding is left to ``gristmill run``.
"""

from __future__ import annotations

import argparse
import json
import posixpath

from rich.console import Console

from gristmill.io.writers import MARKER_SUFFIX, SUFFIXES
from gristmill.storage import url_to_fs


def register(commands: argparse._SubParsersAction) -> None:
    tokenizer = commands.add_parser(
        "tokenizer",
        help="train a tokenizer on a run's cleaned output",
        description="Tokenizer commands (see the 'tokenizer:' section of a pipeline config).",
    )
    actions = tokenizer.add_subparsers(dest="tokenizer_command", required=True, metavar="ACTION")
    train = actions.add_parser(
        "train",
        help="sample the cleaned shards and train the tokenizer (no encoding)",
        description="Train the tokenizer of CONFIG's 'tokenizer:' section on the finished "
        "output shards of CONFIG's sources; writes <output>/tokenizer/.",
    )
    train.add_argument("config", help="pipeline YAML file with a 'tokenizer:' section")
    train.add_argument("--output", help="override the config's output folder")
    train.add_argument("--workers", type=int, default=None, help="embedded LocalCluster workers")
    train.add_argument("--scheduler", metavar="ADDRESS", help="attach to a Dask scheduler")
    train.add_argument("--scheduler-file", metavar="FILE", help="attach through a scheduler file")
    train.add_argument("--fresh", action="store_true", help="retrain even if up to date")
    train.set_defaults(handler=train_command)


def finished_shards(output: str, sources: list[str], fmt: str) -> dict[str, list[str]]:
    """Per source, the output shards that have a completion marker, sorted."""
    found: dict[str, list[str]] = {}
    suffix = SUFFIXES[fmt]
    for source in sources:
        fs, root = url_to_fs(posixpath.join(output, "data", source))
        paths = fs.find(root) if fs.exists(root) else []
        markers = {p[: -len(MARKER_SUFFIX)] for p in paths if p.endswith(MARKER_SUFFIX)}
        shards = sorted(p for p in paths if p.endswith(suffix) and p in markers)
        if not shards:
            raise FileNotFoundError(
                f"no finished {fmt} shards under {posixpath.join(output, 'data', source)}; "
                "run the pipeline first (gristmill run CONFIG)"
            )
        found[source] = [p if "://" not in output else fs.unstrip_protocol(p) for p in shards]
    return found


def train_command(args: argparse.Namespace) -> int:
    import os

    from gristmill.pipelines.config import ConfigError, load_config
    from gristmill.pipelines.runner import dask_client
    from gristmill.tokenize.stage import train_stage

    console = Console(stderr=True)
    config = load_config(args.config, output=args.output)
    if config.tokenizer is None:
        raise ConfigError(f"{args.config}: tokenizer: the config has no 'tokenizer:' section")
    data_files = finished_shards(
        config.output, [s.name for s in config.sources], config.output_format
    )
    workers = args.workers or config.workers or os.cpu_count() or 1
    with dask_client(workers, args.scheduler, args.scheduler_file) as client:
        record = train_stage(config, client, data_files, resume=not args.fresh)
    quality = record["quality"]
    console.print(
        f"tokenizer: [bold]{posixpath.join(config.output, record['path'])}[/] "
        f"({record['backend']}, vocab {record['vocab_size']:,}, sha256 {record['sha256'][:16]}…"
        + (", up to date" if record.get("resumed") else f", trained in {record['train_s']} s")
        + ")"
    )
    console.print(
        f"sample {record['sample']['bytes'] / 1e6:,.1f} MB in {record['sample']['lines']:,} lines; "
        f"held-out: {quality['bytes_per_token']} bytes/token, round-trip exact "
        f"{quality['roundtrip_exact_docs']}/{quality['held_out_docs']}"
    )
    print(json.dumps({k: record[k] for k in ("path", "sha256", "vocab_size", "quality")}, indent=2))
    return 0
