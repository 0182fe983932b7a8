"""``gristmill steps [NAME]``: the step and format reference, read off the step classes."""

from __future__ import annotations

import argparse

from rich.console import Console


def register(commands: argparse._SubParsersAction) -> None:
    steps = commands.add_parser(
        "steps",
        help="list every step and input format, or show one with its parameters",
        description="Without NAME: every registered step (family, kind, what it follows) and "
        "every input format. With NAME: its reference, parameters, types, defaults, bounds "
        "and allowed values, generated from the step class.",
    )
    steps.add_argument("name", nargs="?", help="a step (e.g. minhash) or a format (e.g. warc)")
    steps.add_argument("--markdown", action="store_true", help="print raw Markdown")
    steps.set_defaults(handler=show_steps)


def show_steps(args: argparse.Namespace) -> int:
    # imported here: every other command (``run`` included) parses its arguments without them
    from rich.markdown import Markdown
    from rich.table import Table

    from gristmill.pipelines.step_reference import (
        find_doc,
        first_paragraph,
        format_docs,
        render_markdown,
        step_docs,
    )

    console = Console()
    if args.name:
        try:
            doc = find_doc(args.name)
        except KeyError as error:
            Console(stderr=True).print(f"[red]error[/]: {error.args[0]}")
            return 2
        text = render_markdown(doc, level=1)
        if args.markdown:
            print(text)
        else:
            console.print(Markdown(text))
        return 0
    docs = [*step_docs(), *format_docs()]
    if args.markdown:
        print(
            "\n".join(
                f"- `{d.name}` ({d.family}, {d.kind}): {first_paragraph(d.reference)}" for d in docs
            )
        )
        return 0
    table = Table(title="gristmill steps and formats (gristmill steps NAME for one)")
    for column in ("name", "family", "kind", "follows"):
        table.add_column(column, overflow="fold")
    for doc in docs:
        table.add_row(doc.name, doc.family, doc.kind, first_paragraph(doc.reference))
    console.print(table)
    return 0
