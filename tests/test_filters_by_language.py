"""Per-language parameters (``by_language``) and spaCy stop-word lists per language."""

from __future__ import annotations

import pyarrow as pa
import pytest

from gristmill.documents import make_batch
from gristmill.filters.gopher_quality import GopherQuality
from gristmill.filters.length import TextLength
from gristmill.filters.stop_words import stop_words
from gristmill.pipelines.config import ConfigError, parse_config

ZH = (
    "这座水车建于十九世纪，现在对游客开放。村民们每天早上在河边散步，孩子们在树下玩耍。"
    "这家公司的产品主要出口到欧洲和美国，经济发展需要良好的法律环境和稳定的社会秩序。"
) * 2
EN = (
    "The old mill on the east bank of the river opened to visitors on Saturday, and half "
    "of the village came to see the wheel turn for the first time in three years. "
) * 3
ZH_RULES = {"min_mean_word_length": 1, "max_mean_word_length": 4, "stop_words_from": "zh"}


def batch_of(texts: list[str], languages: list[str | None]) -> pa.Table:
    size = len(texts)
    batch = make_batch([f"d/{i}" for i in range(size)], "s", texts, [None] * size, [None] * size)
    return batch.append_column("lid_lang", pa.array(languages, pa.string()))


def reasons(result) -> dict[str, str | None]:
    out = {doc: None for doc in result.kept.column("id").to_pylist()}
    if result.rejected is not None:
        ids = result.rejected.column("id").to_pylist()
        out.update(zip(ids, result.rejected.column("reason").to_pylist(), strict=True))
    return dict(sorted(out.items()))


def test_each_language_takes_its_block_and_the_batch_keeps_its_order():
    step = GopherQuality(by_language={"zh": ZH_RULES})
    batch = batch_of([ZH, EN, ZH, EN], ["zh", "en", "zh_Hans", None])
    result = step.process(batch, "gopher_quality")
    assert reasons(result) == {"d/0": None, "d/1": None, "d/2": None, "d/3": None}
    assert result.kept.column("id").to_pylist() == ["d/0", "d/1", "d/2", "d/3"]
    stops = result.kept.column("gopher_quality_stop_words").to_pylist()
    assert stops[0] >= 5 and stops[1] >= 2
    # without the block, the English rules drop the Chinese pages
    plain = reasons(GopherQuality().process(batch, "gopher_quality"))
    assert plain["d/0"] == "gopher_quality:min_mean_word_length"


def test_default_block_applies_to_languages_not_listed():
    step = TextLength(
        min_words=1, by_language={"zh": {"min_words": 5}, "default": {"min_words": 500}}
    )
    result = step.process(batch_of([ZH, EN], ["zh", "fr"]), "length")
    assert reasons(result) == {"d/0": None, "d/1": "length:too_few_words"}


def test_by_language_needs_a_language_column():
    batch = batch_of([EN], ["en"]).drop_columns(["lid_lang"])
    with pytest.raises(ValueError, match="lid_lang"):
        TextLength(by_language={"zh": {"min_words": 5}}).process(batch, "length")


def _config(stage: dict, tmp_path) -> None:
    parse_config({"output": str(tmp_path), "sources": [
        {"name": "web", "paths": [str(tmp_path)], "format": "jsonl", "stages": [stage]}]})  # fmt: skip


def test_config_errors_name_the_language_and_the_key(tmp_path):
    with pytest.raises(ConfigError, match=r"by_language\.zh\.min_wordz: unknown key"):
        _config({"gopher_quality": {"by_language": {"zh": {"min_wordz": 3}}}}, tmp_path)
    with pytest.raises(ConfigError, match=r"by_language\.ja\.min_words"):
        _config({"length": {"by_language": {"ja": {"min_words": -1}}}}, tmp_path)
    with pytest.raises(ConfigError, match=r"by_language\.zh\.top_n_grams: use the n-gram sizes"):
        _config({"gopher_repetition": {"by_language": {"zh": {"top_n_grams": {3: 0.2}}}}}, tmp_path)
    with pytest.raises(ConfigError, match=r"by_language\.xx\.stop_words_from.*'xx'"):
        _config({"gopher_quality": {"by_language": {"xx": {"stop_words_from": "xx"}}}}, tmp_path)


def test_stop_words_come_from_spacys_language_data():
    assert {"的", "是", "在"} <= stop_words("zh")
    assert "。" not in stop_words("zh")  # punctuation entries are left out
    assert {"и", "в", "не"} <= stop_words("ru")
    assert {"के", "है"} <= stop_words("hi")
    with pytest.raises(ValueError, match="available"):
        stop_words("xx-none")


def test_a_source_sends_each_language_through_its_own_stages(tmp_path):
    from gristmill.pipelines.routing import LanguageRoute

    stages = [{"route": {
        "zh": [{"gopher_quality": ZH_RULES}, {"length": {"min_words": 10}}],
        "default": [{"length": {"min_words": 1000}}],
    }}]  # fmt: skip
    config = parse_config({"output": str(tmp_path), "sources": [
        {"name": "web", "paths": [str(tmp_path)], "format": "jsonl", "stages": stages}]})  # fmt: skip
    route = config.sources[0].stages[0].step
    assert isinstance(route, LanguageRoute) and set(route.stages) == {"zh", "default"}
    result = route.process(batch_of([ZH, EN, ZH], ["zh", "en", "zh_Hant"]), "route")
    assert reasons(result) == {
        "d/0": None,
        "d/1": "route.default.length:too_few_words",
        "d/2": None,
    }
    assert result.kept.column_names == batch_of([ZH], ["zh"]).column_names


def test_route_errors_name_the_language_and_the_stage(tmp_path):
    with pytest.raises(ConfigError, match=r"routes\.ja\[0\]: unknown step 'gopher'"):
        _config({"route": {"ja": ["gopher"]}}, tmp_path)
    with pytest.raises(ConfigError, match=r"routes\.zh\[0\]\.length\.min_wordz"):
        _config({"route": {"zh": [{"length": {"min_wordz": 1}}]}}, tmp_path)
    with pytest.raises(ConfigError, match=r"routes\.zh: 'exact_dedup' cannot run inside"):
        _config({"route": {"zh": ["exact_dedup"]}}, tmp_path)
