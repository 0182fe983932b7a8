"""Ready-made pipeline configs (``demo.yaml``, ...); ``preset_path(name)`` finds one."""

from __future__ import annotations

from importlib import resources
from pathlib import Path


def preset_path(name: str) -> Path:
    path = Path(str(resources.files(__package__).joinpath(f"{name}.yaml")))
    if not path.exists():
        available = sorted(p.stem for p in path.parent.glob("*.yaml"))
        raise FileNotFoundError(f"no preset {name!r}; available: {', '.join(available)}")
    return path
