"""``gristmill init RECIPE``: write a preset (a published pipeline's recipe) out for editing."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from gristmill.pipelines.presets import preset_names, preset_path


def register(commands: argparse._SubParsersAction) -> None:
    init = commands.add_parser(
        "init",
        help="write a recipe (c4, gopher, refinedweb, fineweb, the_stack, books, ...) to edit",
        description="Copy a preset pipeline config to a file of yours, to edit its paths and "
        "parameters and run it with `gristmill run`. Without RECIPE: list the recipes.",
    )
    init.add_argument("recipe", nargs="?", help="a preset name")
    init.add_argument("--out", help="file to write (default: RECIPE.yaml here)")
    init.add_argument("--force", action="store_true", help="overwrite an existing file")
    init.set_defaults(handler=write_recipe)


def recipe_title(name: str) -> str:
    """What a preset reproduces and its citation: its header comment up to the first ")"."""
    header = []
    for line in preset_path(name).read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        header.append(line.lstrip("#").strip())
    text = " ".join(header)
    return text[: text.index(")") + 1] if ")" in text else text[:120]


def write_recipe(args: argparse.Namespace) -> int:
    errors = Console(stderr=True)
    if not args.recipe:
        for name in preset_names():
            print(f"{name:12} {recipe_title(name)}")
        return 0
    try:
        source = preset_path(args.recipe)
    except FileNotFoundError as error:
        errors.print(f"[red]error[/]: {error}")
        return 2
    target = Path(args.out or f"{args.recipe}.yaml")
    if target.exists() and not args.force:
        errors.print(f"[red]error[/]: {target} exists (use --force to overwrite it)")
        return 2
    target.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    print(f"wrote {target}: edit its paths (relative to it), then `gristmill run {target}`")
    return 0
