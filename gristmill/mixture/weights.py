"""Resolve the per-source mixture weights from the config.

Three cases, each explicit:

- a ``preset`` (Fig. 2 of the survey): each category's share goes to the sources mapped to
  it (``categories``, else the source of the same name), split among them by size; a
  category without sources is dropped and the rest renormalised. Sources must then carry
  no ``weight`` of their own.
- every source has a ``weight``: they are normalised to add up to 1 (0 leaves a source out).
- no source has a ``weight``: the natural mixture, proportional to size.

Anything in between is an error naming the sources concerned.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gristmill.mixture.presets import PRESETS


class MixtureError(ValueError):
    """The mixture cannot be built as configured; the message names the key."""


@dataclass(frozen=True)
class WeightResolution:
    weights: dict[str, float]
    origin: str
    categories: dict[str, list[str]] = field(default_factory=dict)
    dropped_categories: dict[str, float] = field(default_factory=dict)


def resolve_weights(
    declared: dict[str, float | None],
    sizes: dict[str, int],
    preset: str | None = None,
    categories: dict[str, list[str]] | None = None,
) -> WeightResolution:
    """Normalised weights of every source in ``declared`` (in its order)."""
    if preset is not None:
        return _from_preset(declared, sizes, preset, categories or {})
    missing = [name for name, weight in declared.items() if weight is None]
    if missing and len(missing) < len(declared):
        raise MixtureError(
            f"sources {missing} have no 'weight' while others do; give every source a "
            "weight, none (the natural mixture, by size), or use mixture.preset"
        )
    if missing:
        raw = {name: float(sizes.get(name, 0)) for name in declared}
        origin = "natural (proportional to size)"
    else:
        raw = {name: float(weight or 0.0) for name, weight in declared.items()}
        origin = "source weights"
    total = sum(raw.values())
    if total <= 0:
        raise MixtureError("the mixture weights add up to 0: no source would be used")
    return WeightResolution({name: value / total for name, value in raw.items()}, origin)


def _from_preset(
    declared: dict[str, float | None],
    sizes: dict[str, int],
    preset: str,
    categories: dict[str, list[str]],
) -> WeightResolution:
    weighted = sorted(name for name, weight in declared.items() if weight is not None)
    if weighted:
        raise MixtureError(
            f"mixture.preset {preset!r} sets the weights, but sources {weighted} also have a "
            "'weight'; remove one or the other"
        )
    shares = PRESETS[preset]
    mapping = {
        category: list(categories.get(category, [category] if category in declared else []))
        for category in shares
    }
    owner: dict[str, str] = {}
    for category, names in mapping.items():
        for name in names:
            if name not in declared:
                raise MixtureError(
                    f"mixture.categories.{category}: no source named {name!r}; "
                    f"sources: {', '.join(declared)}"
                )
            if name in owner:
                raise MixtureError(
                    f"mixture.categories: source {name!r} is in both {owner[name]!r} and "
                    f"{category!r}"
                )
            owner[name] = category
    unmapped = [name for name in declared if name not in owner]
    if unmapped:
        raise MixtureError(
            f"sources {unmapped} belong to no category of preset {preset!r}; map them under "
            f"mixture.categories (categories: {', '.join(shares)})"
        )
    dropped = {category: share for category, share in shares.items() if not mapping[category]}
    kept_total = sum(share for category, share in shares.items() if mapping[category])
    weights = dict.fromkeys(declared, 0.0)
    for category, names in mapping.items():
        if not names:
            continue
        share = shares[category] / kept_total
        category_size = sum(sizes.get(name, 0) for name in names)
        for name in names:
            part = sizes.get(name, 0) / category_size if category_size else 1 / len(names)
            weights[name] = share * part
    return WeightResolution(
        weights,
        f"preset {preset}",
        categories={category: names for category, names in mapping.items() if names},
        dropped_categories=dropped,
    )
