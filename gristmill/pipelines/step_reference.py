"""The reference of every step and input format, generated from the classes themselves.

A step is a frozen pydantic model whose fields are its YAML block (``steps.py``), so its
parameters, types, defaults, bounds and allowed values can be read off the class, and the
reference it follows off its docstrings. ``gristmill steps [NAME]`` prints this reference
and ``make docs`` renders the same records as the pages of the docs site, so the two cannot
drift apart from the code.
"""

from __future__ import annotations

import inspect
import sys
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from gristmill.pipelines.registry import READERS, known_steps, reader_class, step_class

#: family of a step, from the stage package that holds it (the survey's §4.1.2 stages)
FAMILIES: dict[str, str] = {
    "filters": "quality filtering",
    "dedupe": "de-duplication",
    "pii": "privacy reduction",
    "io": "input formats",
    "pipelines": "routing",
}


@dataclass(frozen=True)
class ParameterDoc:
    name: str
    type: str
    default: str
    constraints: str
    description: str


@dataclass(frozen=True)
class StepDoc:
    name: str
    kind: str  # "filter", "transform", "global step" or "format"
    family: str
    summary: str  # the class docstring
    reference: str  # the module docstring: what the step follows
    parameters: tuple[ParameterDoc, ...]
    class_path: str


def _type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " | ".join(repr(value) for value in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " | ".join(_type_name(arg) for arg in typing.get_args(annotation))
    if origin is not None:
        args = ", ".join(_type_name(arg) for arg in typing.get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation).replace("typing.", ""))


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        try:
            value = field.default_factory()
        except TypeError:
            return "(computed)"
    elif field.default is PydanticUndefined:
        return "required"
    else:
        value = field.default
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    return "null" if value is None else repr(value)


def _constraints(field: FieldInfo) -> str:
    bounds = []
    for item in field.metadata:
        for attribute, symbol in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
            value = getattr(item, attribute, None)
            if value is not None:
                bounds.append(f"{symbol} {value}")
        for attribute in ("min_length", "max_length"):
            value = getattr(item, attribute, None)
            if value is not None:
                bounds.append(f"{attribute} {value}")
    return ", ".join(bounds)


def _kind(cls: type) -> str:
    from gristmill.steps import Filter, GlobalStep, Transform

    for base, kind in ((Filter, "filter"), (Transform, "transform"), (GlobalStep, "global step")):
        if issubclass(cls, base):
            return kind
    return "format"


def describe_class(name: str, cls: type[BaseModel], kind: str | None = None) -> StepDoc:
    """The reference record of one step or reader class."""
    package = cls.__module__.split(".")[1] if cls.__module__.count(".") >= 1 else ""
    module = sys.modules[cls.__module__]
    parameters = tuple(
        ParameterDoc(
            name=field_name,
            type=_type_name(field.annotation),
            default=_default(field),
            constraints=_constraints(field),
            description=" ".join((field.description or "").split()),
        )
        for field_name, field in cls.model_fields.items()
    )
    return StepDoc(
        name=name,
        kind=kind or _kind(cls),
        family=FAMILIES.get(package, package),
        summary=inspect.cleandoc(cls.__doc__ or ""),
        reference=inspect.cleandoc(module.__doc__ or ""),
        parameters=parameters,
        class_path=f"{cls.__module__}:{cls.__qualname__}",
    )


def step_docs() -> list[StepDoc]:
    """Every registered step, in the registry's order (the survey's order of stages)."""
    return [describe_class(name, step_class(name)) for name in known_steps()]


def format_docs() -> list[StepDoc]:
    """Every input format (``format:``) with its ``reader:`` options."""
    return [describe_class(name, reader_class(name), kind="format") for name in READERS]


def find_doc(name: str) -> StepDoc:
    if name in known_steps():
        return describe_class(name, step_class(name))
    if name in READERS:
        return describe_class(name, reader_class(name), kind="format")
    allowed = ", ".join([*known_steps(), *READERS])
    raise KeyError(f"no step or format named {name!r}; known: {allowed}")


def first_paragraph(text: str) -> str:
    return " ".join(text.strip().split("\n\n")[0].split())


def render_markdown(doc: StepDoc, level: int = 2) -> str:
    """One step as Markdown: heading, kind, reference, summary and a parameter table."""
    lines = [f"{'#' * level} `{doc.name}`", "", f"*{doc.kind}* · `{doc.class_path}`", ""]
    if doc.reference:
        lines += [doc.reference, ""]
    if doc.summary and doc.summary != doc.reference:
        lines += [doc.summary, ""]
    if doc.parameters:
        lines += ["| parameter | type | default | bounds | meaning |", "|---|---|---|---|---|"]
        for p in doc.parameters:
            cells = [f"`{p.name}`", p.type, f"`{p.default}`", p.constraints, p.description]
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    else:
        lines.append("No parameters.")
    return "\n".join(lines) + "\n"


def render_family_pages(docs: list[StepDoc]) -> dict[str, str]:
    """Markdown pages, one per family: ``{file name: text}``."""
    pages: dict[str, list[StepDoc]] = {}
    for doc in docs:
        pages.setdefault(doc.family, []).append(doc)
    rendered = {}
    for family, members in pages.items():
        title = family[0].upper() + family[1:]
        body = "\n".join(render_markdown(doc) for doc in members)
        names = ", ".join(f"`{doc.name}`" for doc in members)
        rendered[family.replace(" ", "-") + ".md"] = f"# {title}\n\n{names}\n\n{body}"
    return rendered
