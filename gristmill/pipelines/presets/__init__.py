"""Ready-made pipeline configs: the demo and recipes of published pipelines (C4, Gopher,
RefinedWeb, FineWeb, The Stack, books, ...), each citing its source in its header;
``preset_path(name)`` finds one, ``gristmill init NAME`` writes one out for editing."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def preset_names() -> list[str]:
    """Every preset shipped with gristmill, by name."""
    folder = Path(str(resources.files(__package__)))
    return sorted(path.stem for path in folder.glob("*.yaml"))


def preset_path(name: str) -> Path:
    path = Path(str(resources.files(__package__).joinpath(f"{name}.yaml")))
    if not path.exists():
        available = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise FileNotFoundError(f"no preset {name!r}; available: {', '.join(available)}")
    return path
