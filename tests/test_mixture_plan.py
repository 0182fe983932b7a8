"""The mixture planner and weight resolution, on synthetic token counts (no cluster)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from gristmill.mixture.config import MixtureConfig
from gristmill.mixture.planner import SourceTokens, interleave, layout, plan_mixture
from gristmill.mixture.presets import PRESETS
from gristmill.mixture.weights import MixtureError, resolve_weights


def _source(name: str, docs: int, seed: int, low: int = 20, high: int = 400) -> SourceTokens:
    lengths = np.random.default_rng(seed).integers(low, high, docs).astype(np.int64)
    return SourceTokens(name, (f"tokens/{name}/a.arrow",), (docs,), lengths)


SOURCES = [_source("web", 3000, 1), _source("books", 200, 2, 500, 3000), _source("code", 800, 3)]


def _plan(weights, total=None, max_epochs=4.0, on_exceed="warn", seed=0, sources=SOURCES):
    return plan_mixture(sources, weights, total, max_epochs, on_exceed, seed)


def test_weights_from_sources_natural_sizes_or_errors():
    declared = {"web": 3.0, "books": 1.0}
    assert resolve_weights(declared, {}).weights == {"web": 0.75, "books": 0.25}
    natural = resolve_weights({"web": None, "books": None}, {"web": 300, "books": 100})
    assert natural.weights == {"web": 0.75, "books": 0.25} and natural.origin.startswith("natural")
    with pytest.raises(MixtureError, match=r"\['books'\] have no 'weight'"):
        resolve_weights({"web": 1.0, "books": None}, {})
    with pytest.raises(MixtureError, match="add up to 0"):
        resolve_weights({"web": 0.0}, {})


def test_presets_map_categories_onto_sources_and_renormalise(golden):
    declared = {"cc": None, "c4": None, "gutenberg": None, "github": None}
    sizes = {"cc": 300, "c4": 100, "gutenberg": 50, "github": 80}
    categories = {"web": ["cc", "c4"], "books": ["gutenberg"], "code": ["github"]}
    resolved = {
        preset: resolve_weights(declared, sizes, preset, categories).__dict__
        for preset in ("llama", "gopher")
    }
    llama = resolved["llama"]
    assert llama["dropped_categories"] == {
        "wikipedia": 0.045,
        "arxiv": 0.025,
        "stackexchange": 0.02,
    }
    assert llama["weights"]["cc"] == pytest.approx(0.82 / 0.91 * 0.75)  # split by size in web
    assert sum(llama["weights"].values()) == pytest.approx(1.0)
    golden.check("mixture/presets", {"presets": PRESETS, "resolved": resolved})
    same_names = resolve_weights({"web": None, "books": None, "code": None}, {}, "llama")
    assert same_names.categories == {"web": ["web"], "code": ["code"], "books": ["books"]}
    assert same_names.weights["code"] == pytest.approx(0.045 / 0.91)


def test_preset_mistakes_are_named():
    with pytest.raises(MixtureError, match=r"belong to no category"):
        resolve_weights({"web": None, "code": None}, {}, "gpt3")
    with pytest.raises(MixtureError, match=r"preset 'llama' sets the weights"):
        resolve_weights({"web": 0.5}, {}, "llama")
    with pytest.raises(MixtureError, match=r"no source named 'nope'"):
        resolve_weights({"web": None}, {}, "llama", {"web": ["web"], "code": ["nope"]})
    with pytest.raises(ValueError, match="not in preset 'gpt3'"):
        MixtureConfig(preset="gpt3", categories={"code": ["web"]})
    with pytest.raises(ValueError, match="set a preset"):
        MixtureConfig(categories={"web": ["web"]})


def test_use_everything_uses_the_scarcest_source_exactly_once(golden):
    plan = _plan({"web": 0.6, "books": 0.3, "code": 0.1})
    by_name = {p.name: p for p in plan.sources}
    scarce = min(plan.sources, key=lambda p: p.tokens_available / p.weight)
    assert scarce.epochs == 1.0 and scarce.tokens_taken == scarce.tokens_available
    assert all(p.epochs <= 1.0 for p in plan.sources)
    for p, s in zip(plan.sources, SOURCES, strict=True):  # nearest: within half a document
        assert abs(p.tokens_taken - p.target_tokens) <= s.n_tokens.max() / 2
        assert abs(p.realised_weight - p.weight) < 0.005
    assert by_name["books"].whole_epochs == 1 or by_name["books"].fraction_docs > 0
    layout(plan, 256, True)
    golden.check("mixture/plan_use_everything", plan.summary())


def test_a_budget_upsamples_with_whole_epochs_plus_a_seeded_fraction():
    books = SOURCES[1]
    plan = _plan({"web": 0.5, "books": 0.5}, total=int(books.tokens * 2.5 / 0.5))
    books_plan = plan.sources[1]
    assert books_plan.whole_epochs == 2 and books_plan.epochs == pytest.approx(2.5)
    picked = plan.doc[plan.source == 1]
    counts = np.bincount(picked, minlength=books.n_tokens.size)
    assert set(np.unique(counts)) == {2, 3}  # every document twice, a sample once more
    assert (counts == 3).sum() == books_plan.fraction_docs
    assert plan.sources[2].tokens_taken == 0 and plan.sources[2].target_tokens == 0
    other = _plan({"web": 0.5, "books": 0.5}, total=int(books.tokens * 2.5 / 0.5), seed=1)
    assert not np.array_equal(other.doc, plan.doc)


def test_past_max_epochs_warns_or_fails():
    weights = {"web": 0.1, "books": 0.9}
    total = int(SOURCES[1].tokens * 5 / 0.9)
    with pytest.warns(UserWarning, match=r"'books' would be repeated 5.00 times"):
        plan = _plan(weights, total=total)
    assert plan.warnings
    with pytest.raises(MixtureError, match="max_epochs"):
        _plan(weights, total=total, on_exceed="error")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _plan(weights, total=total, max_epochs=6)


def test_every_prefix_of_the_stream_respects_the_mixture():
    plan = _plan({"web": 0.5, "books": 0.3, "code": 0.2})
    realised = np.array([p.realised_weight for p in plan.sources])
    tokens = np.zeros((plan.n_tokens.size, 3))
    tokens[np.arange(plan.n_tokens.size), plan.source] = plan.n_tokens
    cumulative = np.cumsum(tokens, axis=0)
    prefix = cumulative.sum(axis=1)
    deviation = np.abs(cumulative / prefix[:, None] - realised).max(axis=1)
    # the merge by progress keeps each source within half a document of its share, so
    # the deviation is bounded by (#sources + 1) / 2 x the longest document / prefix
    bound = (3 + 1) / 2 * max(s.n_tokens.max() for s in SOURCES) / prefix
    assert np.all(deviation <= bound + 1e-12)
    tenth = prefix >= prefix[-1] / 10
    assert deviation[tenth].max() < 0.02


def test_interleave_is_stable_for_ties():
    source, doc, _ = interleave(
        [np.array([10, 10]), np.array([10, 10])], [np.array([0, 1]), np.array([1, 0])]
    )
    assert source.tolist() == [0, 1, 0, 1] and doc.tolist() == [0, 1, 1, 0]


def test_layout_without_crossing_pads_instead():
    plan = _plan({"web": 1.0}, sources=[_source("web", 500, 4, 10, 300)])
    layout(plan, 128, documents_cross_rows=False)
    start_row = plan.position // 128
    end_row = (plan.position + plan.n_tokens - 1) // 128
    fits = plan.n_tokens <= 128
    assert np.all(start_row[fits] == end_row[fits])
    assert np.all(plan.position[~fits] % 128 == 0)  # a long document starts a row
    assert plan.padding_tokens == plan.rows * 128 - plan.n_tokens.sum() > 0
    layout(plan, 128, documents_cross_rows=True)
    assert plan.padding_tokens == plan.rows * 128 - plan.n_tokens.sum() < 128
    assert np.array_equal(plan.position[1:], np.cumsum(plan.n_tokens)[:-1])


def test_cross_section_checks_run_when_the_config_loads():
    from gristmill.pipelines.config import ConfigError, parse_config

    def config(mixture, tokenizer=True, weights=(0.5, None)):
        data = {
            "output": "out",
            "sources": [
                {"name": n, "paths": ["x"], "format": "jsonl", "weight": w}
                for n, w in zip(("web", "code"), weights, strict=True)
            ],
            "mixture": mixture,
        }
        if tokenizer:
            data["tokenizer"] = {}
        return parse_config(data)

    with pytest.raises(ConfigError, match="'tokenizer:' section"):
        config({}, tokenizer=False)
    with pytest.raises(ConfigError, match=r"\['code'\] have no 'weight'"):
        config({})
    good = config({"preset": "llama"}, weights=(None, None))
    good.mixture.check(good)
    good.tokenizer.check(good)
