"""``gristmill verify OUT``: recheck every shard's sha256 and row count against the manifest."""

from __future__ import annotations

import argparse

from rich.console import Console


def register(commands: argparse._SubParsersAction) -> None:
    verify = commands.add_parser(
        "verify",
        help="recheck the mixture shards against out/manifest.json",
        description="Recompute the sha256 and row count of every shard listed in the "
        "manifest (and of the tokenizer files); exit status 1 on any difference.",
    )
    verify.add_argument("path", help="output folder (or its manifest.json)")
    verify.set_defaults(handler=verify_command)


def verify_command(args: argparse.Namespace) -> int:
    from gristmill.mixture.manifest import verify_manifest

    console = Console()
    result = verify_manifest(args.path)
    for problem in result.problems:
        console.print(f"[red]FAIL[/] {problem}")
    if result.ok:
        console.print(f"[green]OK[/] {result.checked} files match the manifest")
        return 0
    console.print(f"[red]{len(result.problems)} of {result.checked} files differ[/]")
    return 1
