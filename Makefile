# Two entry points: `make demo` (offline scan of the embedded default) and `make test` (lint, types, tests).
# Each creates .venv when missing and installs the project with its test extras.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test lint typecheck pytest browser bench bench-hash bench-fuzz bench-env clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/provenance scan deepseek-ai/DeepSeek-R1-Distill-Llama-70B

lint: $(STAMP)
	$(BIN)/ruff check provenance tests bench
	$(BIN)/ruff format --check provenance tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# The HTML report is rendered in headless Chromium by the tests (Debian package `chromium`).
browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; } || echo "warning: could not install chromium; the HTML rendering tests will fail"

pytest: $(STAMP) browser
	$(BIN)/python -m pytest -q -p no:cacheprovider

test: lint typecheck pytest

# Figures, not tests: each script prints what it measured. The hash benchmark writes ~4 GB under /tmp.
bench: $(STAMP)
	$(BIN)/python bench/startup_bench.py
	$(BIN)/python bench/identify_bench.py
	$(BIN)/python bench/parsers_bench.py
	$(BIN)/python bench/folder_bench.py

bench-hash: bench-env
	$(BIN)/python bench/hash_bench.py
	$(BIN)/python bench/page_cache_bench.py

bench-fuzz: $(STAMP)
	$(BIN)/python bench/fuzz.py --minutes 10

# The hash benchmark compares with model-signing, installed in the bench's own environment (it needs pyopenssl).
bench-env: $(STAMP)
	test -x bench/.venv/bin/python || $(PYTHON) -m venv bench/.venv
	bench/.venv/bin/python -m pip install --quiet model-signing pyopenssl

clean:
	rm -rf $(VENV) build *.egg-info
