# make demo   — build a small corpus from this Python installation and run the demo preset
# make test   — ruff + the test suite (creates .venv with the test extras if missing)
# make docs   — the docs site (step reference generated from the step classes) in site/
# make bench  — benchmarks against peers (datatrove, ...) in a separate .venv-bench
# make fuzz   — every reader on truncated, bit-flipped and spliced inputs (minutes; not in CI)
PYTHON ?= python3
VENV ?= .venv
BENCH_VENV ?= .venv-bench

.PHONY: demo test lint bench fuzz clean kenlm-tools docs
FUZZ_CASES ?= 1000
FUZZ_SEED ?= 0

$(VENV)/.installed: pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -e ".[test]"
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/gristmill demo --out demo-out

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check gristmill tests bench

test: lint
	$(VENV)/bin/python -m pytest -q

fuzz: $(VENV)/.installed
	$(VENV)/bin/python -m tests.fuzz_readers --cases $(FUZZ_CASES) --seed $(FUZZ_SEED)

$(BENCH_VENV)/.installed: pyproject.toml
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install -q --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install -q -e ".[bench]"
	touch $@

bench: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python bench/readers.py
	$(BENCH_VENV)/bin/python bench/scaling.py
	$(BENCH_VENV)/bin/python bench/filters.py
	$(BENCH_VENV)/bin/python bench/language.py
	$(BENCH_VENV)/bin/python bench/perplexity.py
	$(BENCH_VENV)/bin/python bench/tokenizer.py
	$(BENCH_VENV)/bin/python bench/loader.py
	$(BENCH_VENV)/bin/python bench/pii.py
	$(BENCH_VENV)/bin/python bench/decontaminate.py
	$(BENCH_VENV)/bin/python bench/dedup.py

# KenLM's lmplz / build_binary / query, built from the kenlm sdist (needs cmake, g++ and
# Debian's libboost-{program-options,system,thread,test}-dev zlib1g-dev libbz2-dev liblzma-dev)
kenlm-tools: $(VENV)/.installed
	PYTHON=$(VENV)/bin/python scripts/build_kenlm_tools.sh .tools/kenlm/bin

clean:
	rm -rf demo-out .pytest_cache .ruff_cache

docs: $(VENV)/.installed
	$(VENV)/bin/python -m pip install -q -e ".[docs]"
	$(VENV)/bin/python scripts/build_docs.py
