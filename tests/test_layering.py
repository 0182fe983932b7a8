"""House order (DESIGN.md, layering): imports point down. Stage packages never import
``pipelines/``, ``report/`` or the CLI; every CLI command lives in ``gristmill/cli/``."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "gristmill"
STAGES = ("io", "filters", "dedupe", "pii", "tokenize", "mixture", "segmentation")
ABOVE_STAGES = ("gristmill.pipelines", "gristmill.report", "gristmill.cli")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_stage_packages_never_import_pipelines_report_or_the_cli():
    offenders = []
    for stage in STAGES:
        for path in sorted((PACKAGE / stage).rglob("*.py")):
            for name in _imports(path):
                if name.startswith(ABOVE_STAGES):
                    offenders.append(f"{path.relative_to(PACKAGE)} imports {name}")
    assert not offenders, "\n".join(offenders)


def test_commands_live_in_the_cli_package():
    registering = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "cli" in path.relative_to(PACKAGE).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name == "register":
                args = [a.arg for a in node.args.args]
                if args == ["commands"]:
                    registering.append(str(path.relative_to(PACKAGE)))
    assert not registering, f"subcommands outside gristmill/cli/: {registering}"
