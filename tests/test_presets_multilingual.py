"""The multilingual and Chinese presets, and the chinese_quality step: configs validate,
signals on hand-written pages are goldens, and (evaluation tier, ../shared/data) real
Chinese and multilingual text gets sensible decisions through the whole pipeline."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest
import yaml

from gristmill.documents import make_batch
from gristmill.filters.chinese import ChineseQuality
from gristmill.filters.gopher_quality import GopherQuality
from gristmill.io.writers import read_table
from gristmill.pipelines.config import load_config
from gristmill.pipelines.presets import preset_path
from gristmill.pipelines.routing import LanguageRoute

PAGES = {
    "prose": "这座水车建于十九世纪，现在对游客开放。村民们每天早上在河边散步，孩子们在树下玩耍。",
    "traditional": "這座水車建於十九世紀，現在對遊客開放。村民們每天早上在河邊散步，孩子們在樹下玩耍。",
    "menu": "首页\n新闻\n产品\n联系我们\n登录\n注册\n购物车\n帮助",
    "spam": "时时彩注册送彩金！百家乐真人娱乐，加微信领取，日赚千元！代开发票，联系QQ。",
    "english": "The old mill on the east bank of the river opened to visitors on Saturday.",
}


def batch_of(texts: list[str]):
    size = len(texts)
    return make_batch([f"d/{i}" for i in range(size)], "s", texts, [None] * size, [None] * size)


def test_presets_validate_and_name_their_stages():
    multilingual = load_config(preset_path("multilingual"))
    ids = [stage.id for stage in multilingual.sources[0].stages]
    assert ids[:3] == ["normalize", "lid", "length"] and "route" in ids
    gopher = next(s.step for s in multilingual.sources[0].stages if s.id == "gopher_quality")
    assert {"zh", "ja", "ru", "ar", "hi", "default"} <= set(gopher.by_language)
    route = next(s.step for s in multilingual.sources[0].stages if s.id == "route")
    assert isinstance(route, LanguageRoute)
    chinese = load_config(preset_path("chinese_web"))
    assert "chinese_quality" in [stage.id for stage in chinese.sources[0].stages]


def test_chinese_quality_signals(golden):
    step = ChineseQuality()
    result = step.process(batch_of(list(PAGES.values())), "chinese_quality")
    rows = {}
    for part in (result.kept, result.rejected):
        if part is None:
            continue
        for row in part.to_pylist():
            name = list(PAGES)[int(row["id"][2:])]
            rows[name] = {
                key.removeprefix("chinese_quality_"): round(value, 4)
                if isinstance(value, float)
                else value
                for key, value in row.items()
                if key.startswith("chinese_quality_") or key == "reason"
            }
    golden.check("filters/chinese_quality", dict(sorted(rows.items())))
    assert rows["prose"].get("reason") is None and rows["traditional"]["script"] == "Hant"
    assert rows["menu"]["reason"] == "chinese_quality:min_mean_sentence_chars"
    assert rows["spam"]["reason"] == "chinese_quality:spam_phrases"
    assert rows["english"]["reason"] == "chinese_quality:min_han_ratio"


# --- evaluation tier: real text from ../shared/data ------------------------------------------


def run_map_stages(config, texts: list[str]) -> tuple[set[int], Counter]:
    """The source's map stages in process, in order (global steps skipped): the rows kept
    and the removals by reason."""
    batch, removed = batch_of(texts), Counter()
    for stage in config.sources[0].stages:
        if not stage.is_global:
            result = stage.step.process(batch, stage.id)
            removed.update(result.removed_by_reason())
            batch = result.kept
    return {int(doc_id[2:]) for doc_id in batch.column("id").to_pylist()}, removed


def zh_wiki(shared_data: Path) -> list[str]:
    path = shared_data / "multilingual/zh_wiki_cmrc/passages.jsonl"
    return [json.loads(line)["text"] for line in path.open(encoding="utf-8")]


def lingua_documents(shared_data: Path, languages: list[str], per_language: int = 10):
    """Ten consecutive Leipzig sentences to a document, ``per_language`` documents each."""
    sentences = defaultdict(list)
    for line in (shared_data / "multilingual/lingua/sentences.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        if row["lang"] in languages:
            sentences[row["lang"]].append(row["text"])
    texts, langs = [], []
    for lang in languages:
        joiner = "" if lang in ("zh", "ja", "th") else " "
        for start in range(0, 10 * per_language, 10):
            texts.append(joiner.join(sentences[lang][start : start + 10]))
            langs.append(lang)
    return texts, langs


@pytest.mark.evaluation
def test_chinese_wikipedia_mostly_passes_the_chinese_preset(shared_data):
    texts = zh_wiki(shared_data)[:200]
    kept, removed = run_map_stages(load_config(preset_path("chinese_web")), texts)
    assert len(kept) >= 0.75 * len(texts), removed
    # English rules on the same passages do not pass Chinese silently: every one fails on
    # word length (jieba words are 1.9 characters long) or stop words
    result = GopherQuality().process(batch_of(texts), "gopher_quality")
    reasons = result.removed_by_reason()
    assert result.kept.num_rows <= 0.02 * len(texts), reasons
    assert reasons["gopher_quality:min_mean_word_length"] >= 0.9 * len(texts)


@pytest.mark.evaluation
def test_multilingual_preset_keeps_clean_text_in_each_language(shared_data):
    languages = ["zh", "ja", "ru", "ar", "hi", "th", "en"]
    texts, langs = lingua_documents(shared_data, languages)
    kept, removed = run_map_stages(load_config(preset_path("multilingual")), texts)
    by_language = Counter(langs[row] for row in kept)
    for lang in languages:
        assert by_language[lang] >= 8, (lang, by_language, removed)
    # without by_language, English Gopher rules drop the Chinese and Japanese documents
    english = GopherQuality().process(batch_of(texts), "gopher_quality")
    english_kept = Counter(langs[int(i[2:])] for i in english.kept.column("id").to_pylist())
    assert english_kept["zh"] == 0 and english_kept["ja"] == 0


@pytest.fixture(scope="module")
def client():
    from gristmill.pipelines.runner import dask_client

    with dask_client(workers=1) as client:
        yield client


@pytest.mark.evaluation
@pytest.mark.integration
@pytest.mark.parametrize("preset", ["multilingual", "chinese_web"])
def test_presets_run_end_to_end_on_real_data(shared_data, tmp_path, preset, client):
    """The preset as shipped, its paths pointed at real text, on a Dask cluster."""
    from gristmill.pipelines.runner import run_pipeline

    data = yaml.safe_load(preset_path(preset).read_text(encoding="utf-8"))
    corpus = tmp_path / "corpus.jsonl"
    if preset == "chinese_web":
        texts = zh_wiki(shared_data)[:60]
    else:
        texts, _ = lingua_documents(shared_data, ["zh", "ja", "ru", "ar", "hi", "en"], 3)
        dolma = shared_data / "web/jsonl/dolma/cc_en_head-0091.jsonl"
        texts += [json.loads(line)["text"] for line in dolma.open(encoding="utf-8")][:10]
    corpus.write_text(
        "".join(json.dumps({"text": text}, ensure_ascii=False) + "\n" for text in texts),
        encoding="utf-8",
    )
    data["sources"][0]["paths"] = [str(corpus)]
    data["output"] = str(tmp_path / "out")
    config_path = tmp_path / f"{preset}.yaml"
    config_path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    run_pipeline(load_config(config_path), client)
    kept = sum(read_table(str(path)).num_rows for path in (tmp_path / "out").rglob("*.arrow")
               if "rejected" not in path.parts and "work" not in path.parts)  # fmt: skip
    assert 0 < kept <= len(texts)
