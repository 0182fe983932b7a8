"""Derived tables are built once per environment and then loaded, identical."""

from __future__ import annotations

import numpy as np

from gristmill.dedupe import table_cache, word_tables


def test_a_cached_table_is_built_once_and_loaded_identical(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(table_cache.CACHE_ENV, str(tmp_path))
    builds = []

    def build():
        builds.append(1)
        return np.arange(5, dtype=np.uint8), np.array([1.5, -2.0]), np.empty(0, np.int64)

    first = table_cache.cached_arrays("demo", [word_tables.__file__], build, "NFKC", False)
    second = table_cache.cached_arrays("demo", [word_tables.__file__], build, "NFKC", False)
    other = table_cache.cached_arrays("demo", [word_tables.__file__], build, "NFC", False)
    assert len(builds) == 2  # the NFC table has its own key
    for built, loaded in zip(first, second, strict=True):
        assert built.dtype == loaded.dtype and np.array_equal(built, loaded)
    assert len(list((tmp_path / "tables").glob("demo-*.npz"))) == 2
    assert len(other) == 3


def test_an_unwritable_or_damaged_cache_means_building_again(tmp_path, monkeypatch) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv(table_cache.CACHE_ENV, str(blocked))
    arrays = table_cache.cached_arrays("demo", [], lambda: (np.ones(3),))
    assert np.array_equal(arrays[0], np.ones(3))
    monkeypatch.setenv(table_cache.CACHE_ENV, str(tmp_path))
    table_cache.cached_arrays("demo", [], lambda: (np.ones(3),))
    (saved,) = (tmp_path / "tables").glob("demo-*.npz")
    saved.write_bytes(b"damaged")
    assert np.array_equal(
        table_cache.cached_arrays("demo", [], lambda: (np.zeros(2),))[0], np.zeros(2)
    )


def test_the_code_point_table_from_the_cache_equals_a_fresh_build(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(table_cache.CACHE_ENV, str(tmp_path))
    word_tables.code_point_table.cache_clear()
    try:
        word_tables.code_point_table("NFKC", True)  # built and saved
        word_tables.code_point_table.cache_clear()
        loaded = word_tables.code_point_table("NFKC", True)  # loaded
    finally:
        word_tables.code_point_table.cache_clear()
    fresh = word_tables._build_code_point_table("NFKC", True)
    for a, b in zip(loaded, fresh, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_jieba_prefix_dictionary_from_the_cache_is_jiebas_own(tmp_path, monkeypatch) -> None:
    import jieba

    from gristmill.segmentation import non_spaced

    monkeypatch.setenv(table_cache.CACHE_ENV, str(tmp_path))
    tokenizer = jieba.Tokenizer()
    with tokenizer.get_dict_file() as shipped:
        expected = tokenizer.gen_pfdict(shipped)
    built = non_spaced._jieba_prefix_dictionary(tokenizer)
    assert len(list((tmp_path / "tables").glob("jieba-prefix-dictionary-*.npz"))) == 1
    loaded = non_spaced._jieba_prefix_dictionary(tokenizer)
    assert built == expected and loaded == expected
