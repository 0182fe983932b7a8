"""Perplexity filter, CCNet style: normalisation, KenLM + SentencePiece scoring, buckets,
model training (built-in modified Kneser-Ney, and lmplz when it is built) and the CLI.

The models are trained here on hand-written prose (tests/filters_text.py): no download.
"""

from __future__ import annotations

import json
import random
import re
import subprocess

import numpy as np
import pyarrow as pa
import pytest

from gristmill.cli import main
from gristmill.documents import make_batch
from gristmill.filters.lm_normalize import normalize_batch, normalize_for_lm
from gristmill.filters.perplexity import Perplexity
from gristmill.pipelines.config import ConfigError, parse_config
from gristmill.steps import REASON_COLUMN
from gristmill.training.kneser_ney import DiscountError, estimate, perplexity, read_arpa
from gristmill.training.language_model import (
    find_kenlm_tool,
    perplexity_cutoffs,
    save_cutoffs,
    train_language_model,
)
from tests.filters_text import (
    MILL_PROSE,
    MULTILINGUAL,
    RAILWAY_PROSE,
    WEB_JUNK_FRAGMENTS,
    junk_documents,
    sentences,
)

TRAINING_SENTENCES = 45  # the rest of MILL_PROSE is held out
CUTOFFS = {"en": (100.0, 150.0)}


@pytest.fixture(scope="module")
def lm_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lm")
    train_language_model(
        sentences(MILL_PROSE)[:TRAINING_SENTENCES], folder, vocab_size=400, estimator="builtin"
    )
    return folder


def _held_out_documents() -> list[str]:
    mill = sentences(MILL_PROSE)[TRAINING_SENTENCES:]
    railway = sentences(RAILWAY_PROSE)
    return [
        " ".join(mill[0:3]),
        "\n".join(mill[3:6]),
        " ".join(mill[6:]),
        " ".join(railway[0:3]),
        "\n".join(railway[3:6]),
        " ".join(railway[6:]),
        *junk_documents(count=3),
        MULTILINGUAL["de"],
        "",
    ]


def _batch(texts: list[str], languages: list[str] | None = None) -> pa.Table:
    n = len(texts)
    batch = make_batch([f"web/s/{i}" for i in range(n)], "web", texts, [None] * n, [None] * n)
    if languages is not None:
        batch = batch.append_column("lid_lang", pa.array(languages, type=pa.string()))
    return batch


def _words(line: str) -> str:
    return " ".join(re.findall(r"\w+|[^\w\s]", line.lower()))


def _corpus_lines() -> list[str]:
    text = MILL_PROSE + RAILWAY_PROSE + WEB_JUNK_FRAGMENTS
    return [_words(line) for line in sentences(text)]


def test_ccnet_normalisation(golden):
    samples = [
        "  The Mill, built in 1783, ground 1,200 sacks a year.  ",
        "Café crème à la française — “naïve” façade",
        "収穫は２０２３年。農民は「粉」を運んだ，そして？",
        "Tab\there\x07bell\u200bzero-width\u00a0nbsp … and ‘quotes’",
        "Line one\nLINE TWO ١٢٣",
    ]
    normalized = [normalize_for_lm(text) for text in samples]
    golden.check("filters/lm_normalize", dict(zip(samples, normalized, strict=True)))
    assert normalize_batch(samples) == [normalize_batch([text])[0] for text in samples]
    assert normalize_batch(["", "É", ""]) == ["", "e", ""]


def test_perplexity_scores_buckets_and_drops_the_tail(lm_dir, golden):
    texts = _held_out_documents()
    step = Perplexity(model_dir=str(lm_dir), cutoffs=CUTOFFS)
    result = step.process(_batch(texts), "perplexity")
    assert result.kept.num_rows + result.rejected.num_rows == len(texts)
    rows = sorted(
        result.kept.to_pylist() + result.rejected.to_pylist(),
        key=lambda r: int(r["id"].split("/")[-1]),
    )
    golden.check(
        "filters/perplexity",
        [
            {
                "id": row["id"],
                "perplexity": None
                if np.isnan(row["perplexity_score"])
                else row["perplexity_score"],
                "bucket": row["perplexity_bucket"],
                "reason": row.get(REASON_COLUMN),
            }
            for row in rows
        ],
    )
    scores = [row["perplexity_score"] for row in rows]
    english_prose, junk_and_german = scores[0:6], scores[6:10]
    assert max(english_prose) < min(junk_and_german)
    assert np.isnan(scores[10]) and rows[10]["perplexity_bucket"] is None
    assert set(result.rejected.column(REASON_COLUMN).to_pylist()) == {"perplexity:tail"}


def test_documents_are_scored_by_the_model_of_their_language(lm_dir):
    texts = [MULTILINGUAL["en"], MULTILINGUAL["de"], MULTILINGUAL["fr"]]
    batch = _batch(texts, languages=["en", "de", "fr"])
    keep = Perplexity(model_dir=str(lm_dir), cutoffs=CUTOFFS, drop=[]).process(batch, "ppl")
    scores = keep.kept.column("ppl_score").to_numpy()
    assert np.isfinite(scores[0]) and np.isnan(scores[1:]).all()  # no de/fr model: unscored
    drop = Perplexity(model_dir=str(lm_dir), cutoffs=CUTOFFS, drop=[], unscored="drop")
    result = drop.process(batch, "ppl")
    assert result.rejected.column(REASON_COLUMN).to_pylist() == ["ppl:unscored"] * 2


def test_cutoffs_written_by_lm_cutoffs_are_used(lm_dir, tmp_path):
    model_dir = tmp_path / "models"
    model_dir.mkdir()
    for path in lm_dir.iterdir():
        (model_dir / path.name).write_bytes(path.read_bytes())
    web = [
        " ".join(random.Random(i).sample(sentences(MILL_PROSE + RAILWAY_PROSE), 2))
        for i in range(60)
    ]
    model, tokenizer = Perplexity(model_dir=str(model_dir)).model_files("en")
    cutoffs = perplexity_cutoffs(web, str(model), str(tokenizer))
    assert cutoffs["documents"] == 60 and cutoffs["head"] <= cutoffs["tail"]
    save_cutoffs(model_dir, "en", cutoffs)
    signals = Perplexity(model_dir=str(model_dir)).signals(_batch(web))
    buckets = pa.array(signals["bucket"]).to_pylist()
    assert 12 <= buckets.count("head") <= 24 and 12 <= buckets.count("tail") <= 30


def test_a_missing_model_is_a_clear_error(tmp_path):
    step = Perplexity(model_dir=str(tmp_path), language="fr", language_column=None)
    with pytest.raises(FileNotFoundError, match=r"fr\.sp\.model"):
        step.process(_batch(["Bonjour tout le monde."]), "perplexity")


def test_config_takes_one_model_source():
    def config(params):
        return {
            "output": "out",
            "sources": [
                {
                    "name": "web",
                    "paths": ["x"],
                    "format": "jsonl",
                    "stages": [{"perplexity": params}],
                }
            ],
        }

    stage = parse_config(config({"model_dir": "lm", "cutoffs": {"en": [300, 500]}}))
    assert stage.sources[0].stages[0].step.cutoffs == {"en": (300.0, 500.0)}
    with pytest.raises(ConfigError, match="either model_dir, or model and tokenizer"):
        parse_config(
            config({"model_dir": "lm", "model": "en.arpa.bin", "tokenizer": "en.sp.model"})
        )
    with pytest.raises(ConfigError, match="go together"):
        parse_config(config({"model": "en.arpa.bin"}))
    with pytest.raises(ConfigError, match="head <= tail"):
        parse_config(config({"model_dir": "lm", "cutoffs": {"en": [500, 300]}}))
    with pytest.raises(ConfigError, match=r"perplexity\.drop"):
        parse_config(config({"model_dir": "lm", "drop": ["bottom"]}))


def test_builtin_kneser_ney_arpa_loads_in_kenlm_and_normalises(tmp_path):
    import kenlm

    lines = _corpus_lines()
    model = estimate(lines[:-8], order=3)
    arpa = tmp_path / "words.arpa"
    model.write_arpa(arpa)
    lm = kenlm.Model(str(arpa))
    assert lm.order == 3

    outcomes = [w for w in model.vocabulary if w != "<s>"]
    for context in ([], ["the"], ["the", "mill"], ["cheap", "watches"], ["of", "unseen"]):
        state, scratch = kenlm.State(), kenlm.State()
        lm.BeginSentenceWrite(state)
        for word in context:
            lm.BaseScore(state, word, scratch)
            state, scratch = scratch, state
        total = sum(10 ** lm.BaseScore(state, word, kenlm.State()) for word in outcomes)
        assert total == pytest.approx(1.0, abs=1e-4), context

    held_out = lines[-8:]
    for sentence in held_out:  # our reading of the ARPA agrees with KenLM's
        assert perplexity(model, [sentence]) == pytest.approx(lm.perplexity(sentence), rel=1e-4)
    shuffled = [" ".join(random.Random(1).sample(s.split(), len(s.split()))) for s in held_out]
    assert perplexity(model, held_out) < perplexity(model, shuffled)


def test_discounts_fall_back_only_when_allowed():
    tiny = ["a b", "b", "a"]
    with pytest.raises(DiscountError, match="1-grams"):
        estimate(tiny, order=3, discount_fallback=False)
    assert estimate(tiny, order=3).discounts == [(0.5, 1.0, 1.5)] * 3
    with pytest.raises(ValueError, match="reserved symbol"):
        estimate(["a <s> b"], order=2)
    skipped = estimate(["a <s> b", "a <unk> b"], order=2, skip_symbols=True)
    assert skipped.vocabulary == ["<unk>", "<s>", "</s>", "a", "b"]
    assert len(skipped.orders[1].log_prob) == 3  # <s> a, a b, b </s>


@pytest.mark.skipif(find_kenlm_tool("lmplz") is None, reason="lmplz not built (make kenlm-tools)")
def test_builtin_kneser_ney_equals_lmplz(tmp_path):
    lines = _corpus_lines()
    text = tmp_path / "corpus.txt"
    text.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reference = tmp_path / "lmplz.arpa"
    subprocess.run(
        [
            find_kenlm_tool("lmplz"),
            "-o",
            "5",
            "-S",
            "64M",
            "-T",
            str(tmp_path) + "/",
            "--discount_fallback",
            "--text",
            str(text),
            "--arpa",
            str(reference),
        ],
        check=True,
        capture_output=True,
    )
    ours = tmp_path / "builtin.arpa"
    estimate(lines, order=5).write_arpa(ours)
    expected, actual = read_arpa(reference), read_arpa(ours)
    assert expected.keys() == actual.keys()
    worst = max(max(abs(p - actual[k][0]), abs(b - actual[k][1])) for k, (p, b) in expected.items())
    assert worst < 1e-4


@pytest.mark.skipif(
    find_kenlm_tool("lmplz") is None or find_kenlm_tool("build_binary") is None,
    reason="KenLM tools not built (make kenlm-tools)",
)
def test_lm_train_with_kenlm_tools_scores_like_the_builtin_estimator(lm_dir, tmp_path):
    trained = train_language_model(
        sentences(MILL_PROSE)[:TRAINING_SENTENCES],
        tmp_path,
        vocab_size=400,
        estimator="lmplz",
        memory="64M",
    )
    assert trained.estimator == "lmplz" and trained.model.endswith("en.arpa.bin")
    batch = _batch(_held_out_documents()[:9])
    with_lmplz = Perplexity(model_dir=str(tmp_path), cutoffs=CUTOFFS).signals(batch)["score"]
    builtin = Perplexity(model_dir=str(lm_dir), cutoffs=CUTOFFS).signals(batch)["score"]
    np.testing.assert_allclose(with_lmplz, builtin, rtol=2e-3)


def test_lm_commands_train_and_compute_cutoffs(tmp_path, capsys):
    corpus = tmp_path / "reference.jsonl"
    corpus.write_text(
        "".join(json.dumps({"text": line}) + "\n" for line in sentences(MILL_PROSE)),
        encoding="utf-8",
    )
    web = tmp_path / "web"
    web.mkdir()
    (web / "a.txt").write_text(" ".join(sentences(RAILWAY_PROSE)[:4]), encoding="utf-8")
    (web / "b.txt").write_text(" ".join(sentences(MILL_PROSE)[:4]), encoding="utf-8")
    (web / "c.txt").write_text(junk_documents(count=1)[0], encoding="utf-8")
    models = tmp_path / "lm"

    code = main(
        [
            "lm",
            "train",
            "--input",
            str(corpus),
            "--output-dir",
            str(models),
            "--estimator",
            "builtin",
            "--vocab-size",
            "300",
            "--order",
            "4",
        ]
    )
    assert code == 0
    record = json.loads(capsys.readouterr().out)
    assert record["documents"] == len(sentences(MILL_PROSE)) and record["order"] == 4
    assert {p.name for p in models.iterdir()} >= {"en.sp.model", "en.lm.json"}

    assert main(["lm", "cutoffs", "--model-dir", str(models), "--input", str(web)]) == 0
    saved = json.loads((models / "cutoffs.json").read_text())
    assert saved["en"]["documents"] == 3 and saved["en"]["head"] < saved["en"]["tail"]

    assert main(["lm", "train", "--source", "books", "--output-dir", str(models)]) == 2
