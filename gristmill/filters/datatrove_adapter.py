"""Run a datatrove filter or formatter as a gristmill step.

datatrove (Penedo et al., Hugging Face) has a large zoo of document filters (URL, bad
words, language, Gopher, C4, FineWeb, ...) and formatters (PII, symbol lines, ftfy). This
step builds one from its class name and keyword arguments given in the pipeline YAML::

    - datatrove:
        class_path: datatrove.pipeline.filters.C4ParagraphFilter
        params: {}

Only classes of :data:`ALLOWED_CLASSES` can be named (a config never imports arbitrary
code), and ``params`` must be plain data. datatrove is an optional dependency, imported
when the step first runs; the datatrove object is built once per worker process. A
filter's verdict becomes the reason ``<step>:<datatrove reason>`` (``filtered`` when it
gives none); text a filter or formatter rewrites is written back, and a document a
formatter empties is dropped as ``empty``.
"""

from __future__ import annotations

import importlib
import json
from collections import Counter
from collections.abc import Sequence
from functools import cache
from typing import Any

import pyarrow as pa
from pydantic import Field, field_validator

from gristmill.documents import decode_meta
from gristmill.steps import Transform

_FILTERS = "datatrove.pipeline.filters"
_FORMATTERS = "datatrove.pipeline.formatters"
#: the datatrove classes a config may name (by full path or bare class name)
ALLOWED_CLASSES: dict[str, str] = {
    name: f"{module}.{name}"
    for module, names in (
        (
            _FILTERS,
            (
                "C4BadWordsFilter",
                "C4ParagraphFilter",
                "C4QualityFilter",
                "FastTextClassifierFilter",
                "FineWebQualityFilter",
                "GopherQualityFilter",
                "GopherRepetitionFilter",
                "LanguageFilter",
                "RegexFilter",
                "SamplerFilter",
                "UnigramLogProbFilter",
                "URLFilter",
            ),
        ),
        (_FORMATTERS, ("FTFYFormatter", "PIIFormatter", "SymbolLinesFormatter")),
    )
    for name in names
}


def _allowed_path(class_path: str) -> str:
    full_paths = set(ALLOWED_CLASSES.values())
    if class_path in full_paths:
        return class_path
    if class_path in ALLOWED_CLASSES:
        return ALLOWED_CLASSES[class_path]
    raise ValueError(
        f"datatrove class {class_path!r} is not allowed; allowed: {', '.join(sorted(full_paths))}"
    )


@cache
def _datatrove_step(class_path: str, params_json: str) -> Any:
    """Build the datatrove object once per process (keyed by its configuration)."""
    module_name, class_name = class_path.rsplit(".", 1)
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise RuntimeError(
            "the datatrove step needs the optional dependency datatrove (pip install datatrove)"
        ) from error
    return getattr(module, class_name)(**json.loads(params_json))


class DatatroveStep(Transform):
    """Apply an allow-listed datatrove filter or formatter to every document."""

    name = "datatrove"

    class_path: str = Field(description="a datatrove filter or formatter, see ALLOWED_CLASSES")
    params: dict[str, Any] = Field(default_factory=dict, description="its keyword arguments")

    @field_validator("class_path")
    @classmethod
    def _allowed(cls, value: str) -> str:
        return _allowed_path(value)

    @field_validator("params")
    @classmethod
    def _plain_data(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            json.dumps(value)
        except TypeError as error:
            raise ValueError(
                f"params must be plain data (YAML scalars, lists, maps): {error}"
            ) from None
        return value

    def _step(self) -> Any:
        return _datatrove_step(self.class_path, json.dumps(self.params, sort_keys=True))

    def rewrite(self, batch: pa.Table) -> tuple[list[str], Sequence[str | None], Counter]:
        from datatrove.data import Document

        step = self._step()
        original = batch.column("text").to_pylist()
        documents = []
        for text, doc_id, url, meta in zip(
            original,
            batch.column("id").to_pylist(),
            batch.column("url").to_pylist(),
            batch.column("meta").to_pylist(),
            strict=True,
        ):
            metadata = decode_meta(meta)
            if url is not None:
                metadata.setdefault("url", url)
            documents.append(Document(text=text, id=doc_id, metadata=metadata))
        reasons: list[str | None] = []
        if self.class_path.startswith(_FILTERS):
            for verdict in step.filter_batch(documents):
                keep, reason = verdict if isinstance(verdict, tuple) else (verdict, None)
                reasons.append(None if keep else (reason or "filtered"))
        else:
            for document in documents:
                document.text = step.format(document.text)
                reasons.append(None if document.text.strip() else "empty")
        # a removed document keeps its original text (what rejected/ should show)
        texts = [
            document.text if reason is None else text
            for document, reason, text in zip(documents, reasons, original, strict=True)
        ]
        changed = sum(new != old for new, old in zip(texts, original, strict=True))
        return texts, reasons, Counter(docs_changed=changed)
