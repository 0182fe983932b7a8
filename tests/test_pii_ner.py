"""PERSON and LOCATION through presidio's spaCy recognizer, on a model the test trains.

No spaCy model can be downloaded here, so a blank English pipeline learns a few sentences
and is saved to disk; the step loads it through presidio's SpacyNlpEngine like any model.
"""

from __future__ import annotations

import logging

import pytest

from gristmill.pii.step import PiiScrub

TRAINING = [
    ("Ada Lovelace lives in London.", [(0, 12, "PERSON"), (22, 28, "GPE")]),
    ("Alan Turing moved to Manchester.", [(0, 11, "PERSON"), (21, 31, "GPE")]),
    ("Grace Hopper worked in Arlington.", [(0, 12, "PERSON"), (23, 32, "GPE")]),
    ("The mill in London ground flour.", [(12, 18, "GPE")]),
    ("Ada Lovelace wrote notes.", [(0, 12, "PERSON")]),
    ("Farmers brought grain to the mill.", []),
]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    spacy = pytest.importorskip("spacy")
    from spacy.training import Example

    spacy.util.fix_random_seed(0)
    nlp = spacy.blank("en")
    nlp.add_pipe("ner")
    examples = [
        Example.from_dict(nlp.make_doc(text), {"entities": entities}) for text, entities in TRAINING
    ]
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(40):
        nlp.update(examples, sgd=optimizer, losses={})
    path = tmp_path_factory.mktemp("spacy") / "tiny_ner"
    nlp.to_disk(path)
    return str(path)


def test_ner_entities_come_from_an_installed_model(tiny_model):
    step = PiiScrub(ner="on", ner_model=tiny_model)
    text = "Ada Lovelace lives in London.\nada@example.com"
    scrubbed = step.scrub([text])
    assert scrubbed.texts == ["<PERSON> lives in <LOCATION>.\n<EMAIL_ADDRESS>"]
    assert scrubbed.counters["found:PERSON"] == 1 and scrubbed.counters["found:LOCATION"] == 1


def test_ner_parts_of_long_documents_keep_their_offsets(tiny_model, monkeypatch):
    from gristmill.pii import ner

    monkeypatch.setattr(ner, "NER_MAX_CHARS", 64)
    text = "Farmers brought grain to the mill.\n" * 3 + "Ada Lovelace lives in London.\n"
    found = PiiScrub(ner="on", ner_model=tiny_model).find([text])[0]
    assert [(f.entity, text[f.start : f.end]) for f in found] == [
        ("PERSON", "Ada Lovelace"),
        ("LOCATION", "London"),
    ]


def test_without_a_model_ner_is_off_and_said_once(caplog):
    step = PiiScrub(ner="auto", ner_model="no_such_spacy_model_for_the_test")
    with caplog.at_level(logging.WARNING, logger="gristmill.pii.ner"):
        first = step.scrub(["Ada Lovelace, ada@example.com"])
        step.scrub(["Alan Turing"])
    said = [r for r in caplog.records if "NER entities PERSON, LOCATION are off" in r.getMessage()]
    assert len(said) == 1
    assert first.texts == ["Ada Lovelace, <EMAIL_ADDRESS>"]
    assert first.counters["docs_without_ner"] == 1
    with pytest.raises(RuntimeError, match="not installed"):
        PiiScrub(ner="on", ner_model="no_such_spacy_model_for_the_test").scrub(["x"])
