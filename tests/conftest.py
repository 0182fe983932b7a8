"""Shared test fixtures: the golden-file harness and paths to the optional real corpora.

``pytest --update-golden`` rewrites the expected outputs under ``tests/golden/``; a diff in
review is then the change in behaviour.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

GOLDEN_DIR = Path(__file__).parent / "golden"
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite the expected outputs under tests/golden/ instead of comparing",
    )


class Golden:
    """Compare a JSON-serialisable value with ``tests/golden/<name>.json``."""

    def __init__(self, update: bool) -> None:
        self.update = update

    def check(self, name: str, value: object) -> None:
        path = GOLDEN_DIR / f"{name}.json"
        rendered = json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
        if self.update or not path.exists():
            if not self.update:
                pytest.fail(f"golden file {path} is missing; run pytest --update-golden")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(rendered, encoding="utf-8")
            return
        expected = json.loads(path.read_text(encoding="utf-8"))
        assert json.loads(rendered) == expected, f"output differs from golden file {path}"


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    return Golden(request.config.getoption("--update-golden"))


@pytest.fixture
def shared_data() -> Path:
    """The real corpora of ../shared/data; the test is skipped when they are absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED_DATA
