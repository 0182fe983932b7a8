"""``gristmill lm train`` and ``gristmill lm cutoffs``: the perplexity filter's models.

``lm train`` trains ``<lang>.sp.model`` and ``<lang>.arpa.bin`` on a reference source,
as CCNet did on Wikipedia (see :mod:`gristmill.training.language_model`); ``lm cutoffs`` scores
a sample of the data to filter and stores its 30th/60th perplexity percentiles as the
head/middle/tail cut-offs in ``<model_dir>/cutoffs.json``. Both read documents from a
pipeline source — its finished output (``--config CONFIG --source NAME``, or ``--run
OUT --source NAME``), its raw input through its reader (add ``--raw``) — or from files
(``--input PATH ...``). This module sits on the command-line layer.
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections.abc import Iterator
from dataclasses import asdict

from rich.console import Console

from gristmill.pipelines.source_texts import raw_source_texts


def add_source_arguments(parser: argparse.ArgumentParser, prefix: str = "", what: str = "") -> None:
    """``--config/--run`` + ``--source`` (+ ``--raw``), or ``--input`` files."""
    dash = f"{prefix}-" if prefix else ""
    group = parser.add_argument_group(f"{what or 'documents'}")
    group.add_argument(f"--{dash}source", metavar="NAME", help="a source of the pipeline")
    group.add_argument(
        f"--{dash}raw",
        action="store_true",
        help="read the source's raw input through its reader (needs --config) instead of "
        "the documents a run kept",
    )
    group.add_argument(
        f"--{dash}input",
        nargs="+",
        metavar="PATH",
        help="files, folders or globs (.arrow, .parquet, .jsonl[.gz|.zst], .txt)",
    )


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="pipeline YAML naming the sources")
    parser.add_argument("--run", metavar="OUT", help="a finished run's output folder")
    parser.add_argument("--max-docs", type=int, default=None, help="read at most N documents")


def source_texts(
    args: argparse.Namespace, prefix: str = "", max_documents: int | None = None
) -> Iterator[str]:
    """Document texts named by the source arguments (see :func:`add_source_arguments`)."""
    from gristmill.filters.reference_text import iter_texts, run_source_folder

    key = f"{prefix}_" if prefix else ""
    source = getattr(args, f"{key}source")
    inputs = getattr(args, f"{key}input")
    raw = getattr(args, f"{key}raw")
    flag = f"--{prefix}-" if prefix else "--"
    if (source is None) == (inputs is None):
        raise ValueError(f"give either {flag}source NAME or {flag}input PATH ...")
    if inputs is not None:
        return iter_texts(inputs, max_documents=max_documents)
    if raw:
        if args.config is None:
            raise ValueError(f"{flag}raw reads a source's input files: it needs --config")
        return itertools.islice(raw_source_texts(args.config, source), max_documents)
    if args.run is not None:
        return iter_texts([run_source_folder(args.run, source)], max_documents=max_documents)
    if args.config is None:
        raise ValueError(f"{flag}source needs --config CONFIG or --run OUT")
    from gristmill.pipelines.config import load_config

    output = load_config(args.config).output
    return iter_texts([run_source_folder(output, source)], max_documents=max_documents)


def usage_error(error: Exception) -> int:
    """Print a command-line usage error; the exit status is 2, as argparse's."""
    Console(stderr=True).print(f"[red]error:[/] {error}")
    return 2


def register(commands: argparse._SubParsersAction) -> None:
    lm = commands.add_parser(
        "lm",
        help="train the perplexity filter's language models",
        description="KenLM + SentencePiece models for the perplexity filter (CCNet style).",
    )
    actions = lm.add_subparsers(dest="lm_command", required=True, metavar="ACTION")

    train = actions.add_parser(
        "train",
        help="train <lang>.sp.model and <lang>.arpa.bin on a reference source",
        description="Normalise the reference text, train SentencePiece on it, estimate a "
        "modified Kneser-Ney n-gram model with lmplz (or the built-in estimator) and "
        "binarise it with build_binary.",
    )
    add_run_arguments(train)
    add_source_arguments(train, what="reference text")
    train.add_argument("--language", default="en", help="language code of the model files")
    train.add_argument("--output-dir", required=True, help="folder for the model files")
    train.add_argument("--order", type=int, default=5)
    train.add_argument("--vocab-size", type=int, default=65536, help="SentencePiece vocabulary")
    train.add_argument(
        "--estimator",
        choices=["auto", "lmplz", "builtin"],
        default="auto",
        help="auto: lmplz when found, else the built-in modified Kneser-Ney estimator",
    )
    train.add_argument("--tools", metavar="DIR", help="folder holding lmplz and build_binary")
    train.add_argument("--memory", default="25%", help="lmplz sorting memory (-S)")
    train.add_argument("--threads", type=int, default=1, help="SentencePiece training threads")
    train.set_defaults(handler=train_command)

    cutoffs = actions.add_parser(
        "cutoffs",
        help="compute head/middle/tail perplexity cut-offs on the data to filter",
        description="Score documents with <model-dir>/<lang> models and store the given "
        "percentiles of their perplexity in <model-dir>/cutoffs.json (CCNet: 30 and 60).",
    )
    add_run_arguments(cutoffs)
    add_source_arguments(cutoffs, what="documents to score")
    cutoffs.add_argument("--model-dir", required=True)
    cutoffs.add_argument("--language", default="en")
    cutoffs.add_argument("--percentiles", nargs=2, type=float, default=[30.0, 60.0])
    cutoffs.set_defaults(handler=cutoffs_command)


def train_command(args: argparse.Namespace) -> int:
    from gristmill.training.language_model import train_language_model

    console = Console(stderr=True)
    try:
        texts = source_texts(args, max_documents=args.max_docs)
    except ValueError as error:
        return usage_error(error)
    trained = train_language_model(
        texts,
        args.output_dir,
        language=args.language,
        order=args.order,
        vocab_size=args.vocab_size,
        estimator=args.estimator,
        tools_dir=args.tools,
        memory=args.memory,
        threads=args.threads,
    )
    console.print(
        f"language model [bold]{trained.model}[/] + {trained.tokenizer} "
        f"({trained.estimator}, order {trained.order}, {trained.documents:,} documents, "
        f"{trained.tokens:,} pieces, vocabulary {trained.vocab_size:,})"
    )
    print(json.dumps(asdict(trained), indent=2, sort_keys=True))
    return 0


def cutoffs_command(args: argparse.Namespace) -> int:
    from gristmill.filters.perplexity import Perplexity
    from gristmill.training.language_model import perplexity_cutoffs, save_cutoffs

    step = Perplexity(model_dir=args.model_dir, language=args.language)
    files = step.model_files(args.language)
    if files is None:
        raise FileNotFoundError(
            f"no {args.language} model in {args.model_dir}: run gristmill lm train first"
        )
    try:
        texts = source_texts(args, max_documents=args.max_docs)
    except ValueError as error:
        return usage_error(error)
    cutoffs = perplexity_cutoffs(
        texts,
        str(files[0]),
        str(files[1]),
        percentiles=args.percentiles,
    )
    path = save_cutoffs(args.model_dir, args.language, cutoffs)
    Console(stderr=True).print(
        f"{args.language}: head < {cutoffs['head']} ≤ middle < {cutoffs['tail']} ≤ tail "
        f"({cutoffs['documents']:,} documents) → [bold]{path}[/]"
    )
    print(json.dumps(cutoffs, indent=2))
    return 0
