"""Per-source weights of the tokenizer's training sample: the mixture's weights.

When the config has a ``mixture:`` section, its own resolution (per-source ``weight`` keys,
or a preset mapped onto the sources) is used through the section object's
``source_weights(declared, sizes)``, so the sample follows exactly the mixture the model
will see. Without one, the sources' ``weight`` keys are used, or, when none is set, each
source counts in proportion to its size (the natural distribution).
"""

from __future__ import annotations

from typing import Any


def declared_weights(config: Any) -> dict[str, float | None]:
    return {source.name: source.weight for source in config.sources}


def weights_spec(config: Any) -> dict[str, Any]:
    """What the weights depend on besides the data sizes (for fingerprints)."""
    mixture = config.mixture
    preset = None
    if mixture is not None:
        preset = {"preset": getattr(mixture, "preset", None),
                  "categories": getattr(mixture, "categories", None)}  # fmt: skip
    return {"declared": declared_weights(config), "mixture": preset}


def sample_weights(config: Any, sizes: dict[str, int]) -> dict[str, float]:
    """Normalised weights of the sources, given their sizes (bytes here)."""
    declared = declared_weights(config)
    if config.mixture is not None and hasattr(config.mixture, "source_weights"):
        return config.mixture.source_weights(declared, sizes)
    missing = sorted(name for name, weight in declared.items() if weight is None)
    if missing and len(missing) < len(declared):
        raise ValueError(
            f"{config.source_file}: sources {missing} have no 'weight' while others do; "
            "give every source a weight, or none (weights then follow the sizes)"
        )
    raw = {name: float(sizes.get(name, 0)) for name in declared} if missing else declared
    total = sum(raw.values())
    if total <= 0:
        raise ValueError(f"{config.source_file}: the source weights add up to 0")
    return {name: float(weight) / total for name, weight in raw.items()}
