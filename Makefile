# chcsearch: `make` lists the targets. Every target sets up .venv itself.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install compile browser tools demo test lint bench bench-ingest bench-relevance bench-query bench-serve bench-hostile bench-archive bench-static bench-tune serve content readme screenshots clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-14s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m compileall -q chcsearch
	touch $(STAMP)

install: $(STAMP) ## create .venv and install chcsearch with its dev tools

compile: $(STAMP)
	@$(BIN)/python -m compileall -q chcsearch

demo: $(STAMP) ## index the sample site content/ into index/, show it, and run a sample query
	$(BIN)/chcsearch index content --index index
	$(BIN)/chcsearch status --index index
	$(BIN)/chcsearch query "asthma nurse" --index index

browser: ## install Debian's chromium for the browser tests (needs root; skipped otherwise)
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
	  echo "chromium not installed: the browser tests will be skipped (apt-get install chromium)"

tools: ## install Tesseract and poppler for the OCR tests (needs root; skipped otherwise)
	@command -v tesseract >/dev/null && command -v pdftoppm >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tesseract-ocr poppler-utils >/dev/null; } || \
	  echo "tesseract not installed: the OCR tests will be skipped (apt-get install tesseract-ocr poppler-utils)"

test: $(STAMP) browser tools ## run the tests, then ruff and mypy (real-corpus tests use CHCSEARCH_CORPUS)
	$(BIN)/python -m pytest
	$(MAKE) --no-print-directory lint

lint: $(STAMP) ## ruff and mypy
	$(BIN)/ruff check chcsearch tests bench scripts
	$(BIN)/mypy

bench: bench-ingest bench-relevance bench-query bench-serve bench-hostile bench-archive bench-static ## all benchmarks

bench-ingest: $(STAMP) compile ## cold and no-change builds of the real corpus, beside Recoll
	@command -v recollindex >/dev/null && command -v pdftotext >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq recollcmd poppler-utils >/dev/null; } || \
	  echo "Recoll not installed (apt-get install recollcmd poppler-utils): measuring chcsearch alone"
	$(BIN)/python bench/bench_ingest.py

bench-relevance: $(STAMP) compile ## judged set (MRR@10, nDCG@10, success@1) beside plain Whoosh; Cranfield, CISI beside Whoosh, rank-bm25
	$(BIN)/python bench/bench_relevance.py

bench-query: $(STAMP) compile ## warm and whole-process query latency on the real corpus, beside plain Whoosh
	$(BIN)/python bench/bench_query.py

bench-serve: $(STAMP) compile ## 32 clients for 30 s against chcsearch serve on the real corpus (wrk)
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; } || echo "wrk not installed"
	$(BIN)/python bench/bench_serve.py

bench-hostile: $(STAMP) compile ## 16 clients beside a query storm against chcsearch serve (CHCSEARCH_BENCH_SECONDS per phase)
	$(BIN)/python bench/bench_hostile.py

bench-archive: $(STAMP) compile ## synthetic archives at 1x/10x/40x the corpus: build, memory, queries; pdfium beside Recoll
	@command -v recollindex >/dev/null && command -v pdftotext >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq recollcmd poppler-utils >/dev/null; } || \
	  echo "Recoll not installed (apt-get install recollcmd poppler-utils): measuring chcsearch alone"
	$(BIN)/python bench/bench_archive.py

bench-tune: $(STAMP) compile ## ranking parameters by leave-one-collection-out cross-validation (Cranfield, CISI, CHC)
	$(BIN)/python bench/cross_validate.py

bench-static: $(STAMP) compile browser ## the static bundle's box in Chromium: relevance, first-query bytes, query time, beside serve
	$(BIN)/python bench/bench_static.py

serve: $(STAMP) ## serve the demo index with the search box at http://127.0.0.1:8000/
	$(BIN)/chcsearch serve --index index

content: $(STAMP) ## regenerate the sample site's PDF reports
	$(BIN)/python scripts/make_sample_pdfs.py

readme: $(STAMP) ## rewrite the README's console examples; scripts/readme_examples.py --check (in tests/test_readme.py) checks them
	$(BIN)/python scripts/readme_examples.py --write

screenshots: $(STAMP) browser ## regenerate the README's screenshots of the box (real corpus)
	$(BIN)/python scripts/screenshots.py

clean: ## remove the built index, caches and .venv
	rm -rf $(VENV) .cache .pytest_cache .mypy_cache .ruff_cache
	find index -mindepth 1 ! -name .gitignore -exec rm -rf {} +
