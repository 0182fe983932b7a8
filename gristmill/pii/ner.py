"""PERSON and LOCATION through presidio's spaCy recognizer, when a spaCy model is installed.

presidio's ``SpacyNlpEngine`` downloads a missing model (``en_core_web_lg`` by default); the
``pii`` step must never download anything, so it first checks that the configured model is
an installed package or a model folder, and otherwise says once per worker process that
the NER entities are off. Install a model from its wheel, e.g.
``pip install en_core_web_sm-3.8.0-py3-none-any.whl`` (from spaCy's model releases), or
point ``ner_model`` at a folder written by ``nlp.to_disk``.

NER is slow (spaCy's small English model runs at tens of documents per second), so it reads
whole documents, split at line breaks only beyond :data:`NER_MAX_CHARS` characters.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import SpacyRecognizer

from gristmill.pii.analysis import Finding

logger = logging.getLogger(__name__)

#: documents longer than this go to spaCy in line-aligned parts (spaCy refuses > 1e6)
NER_MAX_CHARS = 100_000
#: spaCy labels each presidio NER entity comes from
NER_LABELS = {"PERSON": ("PERSON", "PER"), "LOCATION": ("GPE", "LOC", "LOCATION")}


def spacy_model_installed(model: str) -> bool:
    """An installed spaCy model package, or a folder holding a saved pipeline."""
    import spacy

    return bool(spacy.util.is_package(model)) or Path(model).is_dir()


@cache
def ner_engine(model: str, language: str, entities: tuple[str, ...]) -> AnalyzerEngine | None:
    """An AnalyzerEngine with presidio's SpacyRecognizer on ``model``; None (said once per
    process) when the model is not installed."""
    if not spacy_model_installed(model):
        logger.warning(
            "pii: spaCy model %r is not installed: NER entities %s are off "
            "(install a spaCy model wheel or set ner_model to a model folder)",
            model,
            ", ".join(entities),
        )
        return None
    wanted = {label for entity in entities for label in NER_LABELS[entity]}
    configuration = NerModelConfiguration()
    nlp_engine = SpacyNlpEngine(
        models=[{"lang_code": language, "model_name": model}],
        ner_model_configuration=configuration,
    )
    nlp_engine.load()
    labels = nlp_engine.nlp[language].pipe_labels.get("ner", [])
    configuration.labels_to_ignore = [label for label in labels if label not in wanted]
    registry = RecognizerRegistry(
        recognizers=[
            SpacyRecognizer(supported_language=language, supported_entities=list(entities))
        ],
        supported_languages=[language],
    )
    return AnalyzerEngine(registry=registry, nlp_engine=nlp_engine, supported_languages=[language])


def _parts(text: str) -> list[tuple[int, str]]:
    """``text`` in line-aligned parts of at most :data:`NER_MAX_CHARS` (a longer line is
    cut where it must)."""
    parts = []
    start = 0
    while len(text) - start > NER_MAX_CHARS:
        cut = text.rfind("\n", start, start + NER_MAX_CHARS) + 1
        if cut <= start:
            cut = start + NER_MAX_CHARS
        parts.append((start, text[start:cut]))
        start = cut
    parts.append((start, text[start:]))
    return parts


def find_ner(
    engine: AnalyzerEngine,
    texts: Sequence[str],
    entities: tuple[str, ...],
    language: str,
    score_threshold: float | None,
) -> list[list[Finding]]:
    """NER findings per document: spaCy runs over the batch with ``nlp.pipe``."""
    parts = [(doc, offset, part) for doc, text in enumerate(texts) for offset, part in _parts(text)]
    findings: list[list[Finding]] = [[] for _ in texts]
    artifacts = engine.nlp_engine.process_batch(
        [part for _, _, part in parts], language, batch_size=32
    )
    for (doc, offset, part), (_, nlp_artifacts) in zip(parts, artifacts, strict=True):
        results = engine.analyze(
            part,
            language=language,
            entities=list(entities),
            score_threshold=score_threshold,
            nlp_artifacts=nlp_artifacts,
        )
        findings[doc].extend(
            Finding(r.entity_type, r.start + offset, r.end + offset, r.score) for r in results
        )
    return findings
