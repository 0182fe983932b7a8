"""Language ID with the real lid.176.ftz model: signals, decisions, model files, accuracy."""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pytest

from gristmill.documents import make_batch
from gristmill.filters.language import (
    LID_176_FTZ_SHA256,
    LanguageID,
    language_matches,
    resolve_model_path,
)
from gristmill.filters.language_eval import (
    accuracy_by_language,
    evaluate_labelled_jsonl,
    macro_accuracy,
)
from gristmill.filters.model_files import CACHE_ENV, ChecksumMismatch, download, verify_sha256
from gristmill.pipelines.config import ConfigError, parse_config
from gristmill.steps import REASON_COLUMN
from tests.filters_text import MILL_PROSE, MULTILINGUAL, junk_documents, sentences


def _batch(texts: list[str]) -> pa.Table:
    n = len(texts)
    return make_batch([f"web/s/{i}" for i in range(n)], "web", texts, [None] * n, [None] * n)


def _golden_texts() -> list[str]:
    mixed = "\n".join(sentences(MILL_PROSE)[:3] + [MULTILINGUAL["de"]])
    return [*MULTILINGUAL.values(), mixed, junk_documents(count=1)[0], "ok", ""]


def test_lid_measures_language_and_score_then_keeps_wanted_languages(golden):
    step = LanguageID(languages=["en", "de", "fr"], threshold=0.65)
    result = step.process(_batch(_golden_texts()), "lid")
    assert result.kept.num_rows + result.rejected.num_rows == len(_golden_texts())
    assert result.kept.schema.field("lid_score").type == pa.float32()
    assert result.kept.schema.field("lid_lang").type == pa.string()
    golden.check(
        "filters/lid",
        {
            "kept": [
                {"id": row["id"], "lang": row["lid_lang"], "score": round(row["lid_score"], 2)}
                for row in result.kept.to_pylist()
            ],
            "rejected": [
                {"id": row["id"], "lang": row["lid_lang"], "reason": row[REASON_COLUMN]}
                for row in result.rejected.to_pylist()
            ],
        },
    )
    removed = result.removed_by_reason()
    assert removed["lid:wrong_language"] == len(MULTILINGUAL) - 3
    assert removed["lid:low_confidence"] >= 2  # "ok" and the empty document


def test_every_language_of_the_golden_set_is_recognised():
    langs, scores = LanguageID().predict(pa.array(list(MULTILINGUAL.values())))
    assert langs == list(MULTILINGUAL)
    assert np.all(scores > 0.65)


def test_newlines_are_normalised_before_predicting():
    lines = sentences(MILL_PROSE)[:6]
    step = LanguageID()
    multi_line, _ = step.predict(pa.array(["\n".join(lines)]))
    single = step.predict(pa.array(["\n".join(lines), " ".join(lines)]))
    assert multi_line == ["en"]
    assert single[1][0] == single[1][1]  # same text once newlines are spaces


def test_unicode_spaces_separate_words():
    words = sentences(MILL_PROSE)[0].split()
    langs, scores = LanguageID().predict(
        pa.array(["\u00a0".join(words), "\u3000".join(words), " ".join(words)])
    )
    assert langs == ["en"] * 3
    assert scores[0] == scores[1] == scores[2] > 0.65


def test_no_language_list_keeps_any_confident_language():
    result = LanguageID(threshold=0.5).process(_batch(list(MULTILINGUAL.values())), "lid")
    assert result.rejected is None
    assert result.kept.column("lid_lang").to_pylist() == list(MULTILINGUAL)


def test_glotlid_labels_match_by_their_language_part():
    labels = np.array(["eng_Latn", "deu_Latn", "en", "zho_Hans"], dtype=object)
    assert language_matches(labels, ["eng", "zho_Hans"]).tolist() == [True, False, False, True]


def test_packaged_model_is_found_and_verified():
    path = resolve_model_path("lid.176.ftz")
    assert path.name == "lid.176.ftz"
    verify_sha256(path, LID_176_FTZ_SHA256)
    with pytest.raises(ChecksumMismatch, match="does not match"):
        resolve_model_path("lid.176.ftz", sha256="0" * 64)


def test_model_paths_are_checked_against_their_sha256(tmp_path):
    model = tmp_path / "model.bin"
    model.write_bytes(b"not really a fastText model")
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    assert resolve_model_path(str(model), sha256=digest) == model
    with pytest.raises(ChecksumMismatch, match=str(model)):
        resolve_model_path(str(model), sha256="f" * 64)
    with pytest.raises(FileNotFoundError, match="neither a file nor a known name"):
        resolve_model_path(str(tmp_path / "missing.bin"))


def test_download_keeps_only_a_verified_file(tmp_path):
    source = tmp_path / "published" / "lid.test.ftz"
    source.parent.mkdir()
    source.write_bytes(b"\x00model bytes\x01" * 1000)
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    cache = tmp_path / "cache"

    with pytest.raises(ChecksumMismatch, match="downloaded sha256"):
        download(source.as_uri(), "a" * 64, cache / "lid.test.ftz")
    assert list(cache.iterdir()) == []  # nothing half-written or unverified is left

    path = download(source.as_uri(), digest, cache / "lid.test.ftz")
    assert path.read_bytes() == source.read_bytes()


def test_known_models_need_a_checksum_before_downloading(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match="download: true"):
        resolve_model_path("lid.176.bin")
    with pytest.raises(ValueError, match="needs its sha256"):
        resolve_model_path("lid.176.bin", allow_download=True)
    cached = tmp_path / "lid.176.bin"
    cached.write_bytes(b"a cached copy")
    digest = hashlib.sha256(b"a cached copy").hexdigest()
    assert resolve_model_path("lid.176.bin", sha256=digest) == cached


def test_config_validates_the_lid_block():
    def config(params):
        return {
            "output": "out",
            "sources": [
                {
                    "name": "web",
                    "paths": ["x.jsonl"],
                    "format": "jsonl",
                    "stages": [{"lid": params}],
                }
            ],
        }

    stage = parse_config(config({"languages": ["en"], "threshold": 0.5})).sources[0].stages[0]
    assert stage.step.languages == ["en"] and stage.step.threshold == 0.5
    with pytest.raises(ConfigError, match=r"stages\[0\]\.lid\.threshold"):
        parse_config(config({"threshold": 2}))
    with pytest.raises(ConfigError, match="model_sha256"):
        parse_config(config({"model_sha256": "xyz"}))


def test_macro_accuracy_weighs_languages_equally():
    gold = ["en"] * 8 + ["de"] * 2
    predicted = ["en"] * 8 + ["de", "en"]
    assert accuracy_by_language(gold, predicted) == {"de": 0.5, "en": 1.0}
    assert macro_accuracy(gold, predicted) == pytest.approx(0.75)


@pytest.mark.evaluation
def test_accuracy_on_the_lingua_sentences(shared_data):
    evaluation = evaluate_labelled_jsonl(
        shared_data / "multilingual" / "lingua" / "sentences.jsonl", per_language_limit=200
    )
    assert evaluation.documents == 75 * 200
    assert len(evaluation.per_language) == 75
    # lid.176 cannot output 8 of lingua's languages (Zulu, Xhosa, Shona, ...)
    assert len(evaluation.unsupported) == 8
    assert evaluation.macro_supported > 0.85
    assert evaluation.per_language["en"] > 0.95 and evaluation.per_language["de"] > 0.95
