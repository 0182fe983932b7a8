"""Generate the reference pages of the docs site from the code, then (optionally) build it.

``make docs`` runs this: the step and format pages come from the step classes (the same
records ``gristmill steps`` prints), the config page from the config models, the CLI page
from the argument parser. Generated pages go to ``docs/reference/`` (not committed); the
hand-written pages (design, Python API, scale) sit beside them in ``docs/``.
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

from gristmill.cli import build_parser
from gristmill.mixture.config import MixtureConfig
from gristmill.pipelines.config import _Source, _TopLevel
from gristmill.pipelines.step_reference import (
    describe_class,
    format_docs,
    render_family_pages,
    render_markdown,
    step_docs,
)
from gristmill.tokenize.config import TokenizerConfig

ROOT = Path(__file__).resolve().parents[1]


def config_page() -> str:
    parts = [
        "# Config schema\n",
        "Every key of a pipeline YAML, generated from the models "
        "that validate it. Unknown keys are errors.\n",
    ]
    for title, cls in (
        ("top level", _TopLevel),
        ("a source (`sources: [...]`)", _Source),
        ("`tokenizer:`", TokenizerConfig),
        ("`mixture:`", MixtureConfig),
    ):
        page = render_markdown(describe_class(title, cls, kind="config"), level=2)
        parts.append(page.replace(f"## `{title}`", f"## {title}", 1))
    return "\n".join(parts)


def cli_page() -> str:
    parser = build_parser()
    parts = ["# Command line\n", "```text", parser.format_help(), "```\n"]
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in subparsers.choices.items():
        parts += [f"## `gristmill {name}`\n", "```text", sub.format_help(), "```\n"]
    return "\n".join(parts)


def write_pages(docs_dir: Path) -> list[Path]:
    reference = docs_dir / "reference"
    reference.mkdir(parents=True, exist_ok=True)
    pages = render_family_pages([*step_docs(), *format_docs()])
    pages["config.md"] = config_page()
    pages["cli.md"] = cli_page()
    written = []
    for name, text in pages.items():
        path = reference / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages-only", action="store_true", help="write the pages, no mkdocs")
    args = parser.parse_args()
    with redirect_stdout(io.StringIO()):
        written = write_pages(ROOT / "docs")
    print(f"wrote {len(written)} reference pages to docs/reference/")
    if args.pages_only:
        return 0
    if shutil.which("mkdocs") is None and not (Path(sys.executable).parent / "mkdocs").exists():
        print("mkdocs is not installed: pip install -e '.[docs]'", file=sys.stderr)
        return 1
    mkdocs = shutil.which("mkdocs") or str(Path(sys.executable).parent / "mkdocs")
    return subprocess.call([mkdocs, "build", "--strict", "-f", str(ROOT / "mkdocs.yml")])


if __name__ == "__main__":
    raise SystemExit(main())
