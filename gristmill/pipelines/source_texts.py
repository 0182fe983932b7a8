"""The raw texts of one source of a pipeline config, read through the reader it names:
what ``gristmill lm train`` and the demo train reference models on."""

from __future__ import annotations

from collections.abc import Iterator


def raw_source_texts(config_path: str, source_name: str) -> Iterator[str]:
    """Texts of a source's raw input, read through the reader its config names."""
    from gristmill.io.base import ReaderCounts
    from gristmill.pipelines.config import ConfigError, load_config

    config = load_config(config_path)
    sources = {s.name: s for s in config.sources}
    if source_name not in sources:
        raise ConfigError(
            f"{config_path}: no source {source_name!r}; sources: {', '.join(sorted(sources))}"
        )
    source = sources[source_name]
    for shard in source.reader.shards(source.name, list(source.paths)):
        for batch in source.reader.read(shard, ReaderCounts()):
            yield from (t for t in batch.column("text").to_pylist() if t)
