"""``gristmill classifier train``: the GPT-3-style quality classifier of a pipeline.

Positives are a reference source (books, Wikipedia, a curated set), negatives raw web
(usually ``--negative-source web --negative-raw``: the crawl as read, before filtering).
Sources are given as in ``gristmill lm train`` (see :mod:`gristmill.cli.lm`);
training is :func:`gristmill.training.quality_classifier.train_quality_classifier`.
The model's sha256 and held-out accuracy are printed and written beside it.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from rich.console import Console

from gristmill.cli.lm import (
    add_run_arguments,
    add_source_arguments,
    source_texts,
    usage_error,
)


def register(commands: argparse._SubParsersAction) -> None:
    classifier = commands.add_parser(
        "classifier",
        help="train the fastText quality classifier (GPT-3 style)",
        description="Quality classifier commands (the quality_classifier step).",
    )
    actions = classifier.add_subparsers(dest="classifier_command", required=True, metavar="ACTION")
    train = actions.add_parser(
        "train",
        help="train reference (positive) vs raw web (negative) with fastText",
        description="Train a fastText supervised model: positives from a reference source, "
        "negatives from raw web; classes balanced, a tenth held out for evaluation.",
    )
    add_run_arguments(train)
    add_source_arguments(train, prefix="positive", what="positives (reference text)")
    add_source_arguments(train, prefix="negative", what="negatives (raw web)")
    train.add_argument("--output", required=True, help="model file (.bin, or .ftz with --quantize)")
    train.add_argument("--epoch", type=int, default=5)
    train.add_argument("--lr", type=float, default=0.1)
    train.add_argument("--word-ngrams", type=int, default=2)
    train.add_argument("--dim", type=int, default=64)
    train.add_argument("--bucket", type=int, default=1_000_000, help="hashed n-gram buckets")
    train.add_argument("--min-count", type=int, default=2)
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--max-docs-per-class", type=int, default=100_000)
    train.add_argument("--quantize", action="store_true", help="write a small quantised model")
    train.set_defaults(handler=train_command)


def train_command(args: argparse.Namespace) -> int:
    from gristmill.training.quality_classifier import (
        ClassifierTraining,
        train_quality_classifier,
    )

    params = ClassifierTraining(
        epoch=args.epoch,
        lr=args.lr,
        word_ngrams=args.word_ngrams,
        dim=args.dim,
        bucket=args.bucket,
        min_count=args.min_count,
        seed=args.seed,
        max_documents_per_class=args.max_docs_per_class,
        quantize=args.quantize,
    )
    limit = args.max_docs or args.max_docs_per_class
    try:
        positives = source_texts(args, "positive", max_documents=limit)
        negatives = source_texts(args, "negative", max_documents=limit)
    except ValueError as error:
        return usage_error(error)
    trained = train_quality_classifier(
        positives,
        negatives,
        args.output,
        params,
    )
    Console(stderr=True).print(
        f"quality classifier [bold]{trained.model}[/] ({trained.positives:,} documents per "
        f"class; held-out accuracy {trained.accuracy:.3f}, precision {trained.precision:.3f}, "
        f"recall {trained.recall:.3f})"
    )
    print(json.dumps(asdict(trained), indent=2, sort_keys=True))
    return 0
