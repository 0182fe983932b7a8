"""Mapping of record fields onto the document schema, shared by JSONL, Parquet and Arrow.

A record (a JSON object or a table row) gives the document's ``text`` and ``url`` through
configurable field names, like datatrove's ``text_key``/``id_key`` adapters (a dotted name,
``metadata.url``, reaches into a nested object as in Dolma's files); every other field is
kept in ``meta`` (or only those listed in ``meta_fields``). gristmill's own id is
always rebuilt as ``{source}/{shard}/{ordinal}``: an input id is not trusted to be unique
or stable, so when ``id_field`` names one it is kept as ``meta["orig_id"]``. A field
called ``meta`` holding a JSON object (or its JSON string, as gristmill itself writes) is
merged into ``meta`` rather than nested, so re-reading gristmill output does not wrap meta
in meta; the record's other fields win on a key clash.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from gristmill.io.base import Reader

ORIG_ID_KEY = "orig_id"
MERGED_META_FIELD = "meta"


class FieldMapping(Reader):
    """Reader options naming the fields of a record (``reader:`` keys of the YAML)."""

    text_field: str = "text"
    id_field: str | None = None
    url_field: str | None = "url"
    meta_fields: tuple[str, ...] | None = None

    def mapped_fields(self) -> set[str]:
        """Fields consumed by the schema itself (never copied into meta)."""
        return {name for name in (self.text_field, self.id_field, self.url_field) if name}

    def text_of(self, record: Mapping[str, Any]) -> Any:
        return field_value(record, self.text_field)

    def url_of(self, record: Mapping[str, Any]) -> str | None:
        if self.url_field is None:
            return None
        value = field_value(record, self.url_field)
        if value is None or isinstance(value, dict | list):
            return None
        return value if isinstance(value, str) else str(value)

    def meta_of(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """The meta dict of a record: its unmapped fields, the merged ``meta`` and orig_id."""
        mapped = self.mapped_fields()
        if self.meta_fields is None:
            meta = {key: value for key, value in record.items() if key not in mapped}
        else:
            meta = {key: record[key] for key in self.meta_fields if key in record}
        nested = meta.pop(MERGED_META_FIELD, None)
        if nested is not None:
            merged = _as_object(nested)
            if merged is None:
                meta[MERGED_META_FIELD] = nested
            else:
                meta = {**merged, **meta}
        if self.id_field is not None:
            orig_id = field_value(record, self.id_field)
            if orig_id is not None:
                meta[ORIG_ID_KEY] = orig_id
        return meta


def field_value(record: Mapping[str, Any], name: str) -> Any:
    """``record[name]``; a dotted name reaches into nested objects (``metadata.url``)
    when the record has no field of that literal name."""
    if name in record or "." not in name:
        return record.get(name)
    value: Any = record
    for key in name.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _as_object(value: Any) -> dict[str, Any] | None:
    """A dict, or a string holding a JSON object, as a dict; anything else None."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.startswith("{"):
        try:
            decoded = json.loads(value)
        except ValueError:
            return None
        return decoded if isinstance(decoded, dict) else None
    return None
