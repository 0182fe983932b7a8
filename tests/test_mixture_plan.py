"""The mixture planner and weight resolution, on synthetic token counts (no cluster)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from gristmill.mixture.config import MixtureConfig
from gristmill.mixture.planner import SourceTokens, plan_mixture
from gristmill.mixture.presets import PRESETS
from gristmill.mixture.weights import MixtureError, resolve_weights


def _source(name: str, docs: int, seed: int, low: int = 20, high: int = 400) -> SourceTokens:
    lengths = np.random.default_rng(seed).integers(low, high, docs).astype(np.int64)
    return SourceTokens(name, (f"tokens/{name}/a.arrow",), (docs,), lengths)


SOURCES = [_source("web", 3000, 1), _source("books", 200, 2, 500, 3000), _source("code", 800, 3)]


def _plan(weights, total=None, max_epochs=4.0, on_shortfall="error", seed=0, sources=SOURCES,
          row_length=256, cross_rows=True):  # fmt: skip
    return plan_mixture(sources, weights, total, max_epochs, on_shortfall, seed, row_length,
                        cross_rows)  # fmt: skip


def _tokens_by_source(plan) -> np.ndarray:
    return np.bincount(plan.source, weights=plan.n_tokens, minlength=len(plan.sources))


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
    taken = _tokens_by_source(plan)
    for p, tokens in zip(plan.sources, taken, strict=True):  # to the token
        assert tokens == p.tokens_taken == p.target_tokens
        assert abs(p.realised_weight - p.weight) < 1e-4
    assert by_name["books"].whole_epochs == 1 or by_name["books"].fraction_docs > 0
    golden.check("mixture/plan_use_everything", plan.summary())


def test_a_budget_upsamples_with_whole_epochs_plus_a_seeded_fraction():
    books = SOURCES[1]
    plan = _plan({"web": 0.5, "books": 0.5}, total=int(books.tokens * 2.5 / 0.5))
    books_plan = plan.sources[1]
    assert books_plan.whole_epochs == 2 and books_plan.epochs == pytest.approx(2.5, abs=1e-6)
    pieces = (plan.source == 1) & (plan.offset == 0)  # first pieces: one per instance
    counts = np.bincount(plan.doc[pieces], minlength=books.n_tokens.size)
    assert set(np.unique(counts)) == {2, 3}  # every document twice, a sample once more
    assert (counts == 3).sum() == books_plan.fraction_docs
    assert plan.sources[2].tokens_taken == 0 and plan.sources[2].target_tokens == 0
    other = _plan({"web": 0.5, "books": 0.5}, total=int(books.tokens * 2.5 / 0.5), seed=1)
    assert not np.array_equal(other.doc, plan.doc)


def _huge_books() -> list[SourceTokens]:
    """Web of short pages, books of 3 novels each longer than the books' whole target, and
    code far scarcer than the others."""
    web = _source("web", 4000, 11, 50, 2000)
    books = SourceTokens("books", ("b",), (3,), np.array([150_000, 220_000, 300_000]))
    code = _source("code", 40, 12, 100, 600)
    return [web, books, code]


@pytest.mark.parametrize("total", [None, 1_000_000, 2_500_000])
@pytest.mark.parametrize("cross_rows", [True, False])
def test_weights_are_exact_when_one_document_exceeds_a_source_target(total, cross_rows):
    sources = _huge_books()
    weights = {"web": 0.85, "books": 0.10, "code": 0.05}
    if total is not None:
        weights = {"web": 0.9, "books": 0.095, "code": 0.005}
    plan = _plan(weights, total=total, sources=sources, row_length=2048, cross_rows=cross_rows)
    taken = _tokens_by_source(plan)
    shares = taken / taken.sum()
    expected = np.array([weights[s.name] for s in sources])
    assert np.abs(shares - expected).max() <= 0.005
    assert plan.max_deviation <= 0.005
    books = plan.sources[1]
    assert 0 < books.tokens_taken < 300_000  # less than the longest book
    if total is None:  # code, the scarcest, is used once
        assert plan.sources[2].tokens_taken == sources[2].tokens
    # pieces never cross a row, and every row holds one source
    row = plan.position // 2048
    assert np.array_equal(row, (plan.position + plan.n_tokens - 1) // 2048)
    assert all(len(set(plan.source[row == r].tolist())) == 1 for r in np.unique(row)[:500])
    # a document's pieces are consecutive tokens of it
    ends = plan.offset + plan.n_tokens
    assert np.all(ends <= np.array([sources[s].n_tokens[d] for s, d in
                                    zip(plan.source, plan.doc, strict=True)]))  # fmt: skip


def test_a_shortfall_stops_the_plan_with_the_numbers():
    weights = {"web": 0.1, "books": 0.9}
    books = SOURCES[1].tokens
    total = int(books * 5 / 0.9)
    with pytest.raises(MixtureError) as error:
        _plan(weights, total=total)
    message = str(error.value)
    assert f"source 'books' has {books:,} tokens but needs {0.9 * total:,.0f}" in message
    assert "would take 5.00 epochs, more than mixture.max_epochs = 4" in message
    assert "on_shortfall: reweight" in message
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _plan(weights, total=total, max_epochs=6)


def test_a_shortfall_policy_reweights_or_repeats_and_says_why():
    weights = {"web": 0.1, "books": 0.9}
    books = SOURCES[1].tokens
    total = int(books * 5 / 0.9)
    with pytest.warns(UserWarning, match="capped at 4 epochs"):
        plan = _plan(weights, total=total, on_shortfall="reweight")
    by_name = {p.name: p for p in plan.sources}
    assert by_name["books"].tokens_taken == 4 * books
    assert sum(p.tokens_taken for p in plan.sources) == total  # the others fill the budget
    assert by_name["books"].deviation < -0.005 and "reweighted" in by_name["books"].note
    assert plan.warnings == [by_name["books"].note]
    with pytest.warns(UserWarning, match="repeated anyway"):
        repeated = _plan(weights, total=total, on_shortfall="repeat")
    assert repeated.sources[1].epochs == pytest.approx(5.0, rel=1e-5)
    assert repeated.max_deviation < 1e-4


def test_every_prefix_of_the_stream_respects_the_mixture():
    plan = _plan({"web": 0.5, "books": 0.3, "code": 0.2}, row_length=128)
    realised = np.array([p.realised_weight for p in plan.sources])
    rows = plan.position // 128
    tokens = np.zeros((plan.rows, 3))
    np.add.at(tokens, (rows, plan.source), plan.n_tokens)
    cumulative = np.cumsum(tokens, axis=0)
    prefix = cumulative.sum(axis=1)
    deviation = np.abs(cumulative / prefix[:, None] - realised).max(axis=1)
    # the merge of rows by progress keeps each source within half a row of its share, so
    # the deviation is bounded by (#sources + 1) / 2 x the row length / prefix
    bound = (3 + 1) / 2 * 128 / prefix
    assert np.all(deviation <= bound + 1e-12)
    tenth = prefix >= prefix[-1] / 10
    assert deviation[tenth].max() < 0.02


def test_prefixes_respect_the_mixture_with_documents_larger_than_the_target():
    sources = _huge_books()
    plan = _plan({"web": 0.85, "books": 0.10, "code": 0.05}, sources=sources, row_length=2048)
    rows = plan.position // 2048
    tokens = np.zeros((plan.rows, 3))
    np.add.at(tokens, (rows, plan.source), plan.n_tokens)
    cumulative = np.cumsum(tokens, axis=0)
    prefix = cumulative.sum(axis=1)
    deviation = np.abs(cumulative / prefix[:, None] - [0.85, 0.10, 0.05]).max(axis=1)
    assert np.all(deviation <= (3 + 1) / 2 * 2048 / prefix + 1e-12)  # within half a row each
    assert deviation[-1] < 1e-4


def test_layout_without_crossing_pads_instead():
    source = _source("web", 500, 4, 10, 300)
    plan = _plan({"web": 1.0}, sources=[source], row_length=128, cross_rows=False)
    first = plan.offset == 0
    start_row = plan.position[first] // 128
    fits = source.n_tokens[plan.doc[first]] <= 128
    assert np.all(plan.position[first][~fits] % 128 == 0)  # a long document starts a row
    whole_in_row = plan.n_tokens[first][fits] == source.n_tokens[plan.doc[first]][fits]
    assert whole_in_row.all() and start_row.size == source.n_tokens.size
    assert plan.padding_tokens == plan.rows * 128 - plan.n_tokens.sum() > 0
    crossing = _plan({"web": 1.0}, sources=[source], row_length=128, cross_rows=True)
    assert crossing.padding_tokens == crossing.rows * 128 - crossing.n_tokens.sum() < 128
    assert np.array_equal(crossing.position[1:], np.cumsum(crossing.n_tokens)[:-1])


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
