# newsflow: every command a user or CI needs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help install demo test test-unit lint format eval bench bench-pipeline bench-warc clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install newsflow with its dev tools

demo: $(STAMP)  ## run the whole pipeline embedded (SQLite, in-process) on the bundled news site
	$(PY) -m services.demosite.demo

test: $(STAMP)  ## the whole test suite on real Postgres and Redis (see README: Testing)
	$(PY) -m pytest

test-unit: $(STAMP)  ## only the unit tests (no services needed)
	$(PY) -m pytest tests/unit

lint: $(STAMP)  ## ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

eval: $(STAMP)  ## per-field extraction scores over the fixture corpus, entity precision and recall
	$(PY) -m bench.eval_parse
	$(PY) -m bench.eval_entities

bench: $(STAMP)  ## parse speed against trafilatura on the same pages
	$(PY) -m bench.parse_bench

bench-pipeline: $(STAMP)  ## end-to-end throughput and latency vs a no-queue baseline (BENCHMARKS.md); ARGS=--quick
	$(PY) -m bench.pipeline_bench $(ARGS)

bench-warc: $(STAMP)  ## WARC import step vs the parsing it feeds, on 1,000 records of real pages (BENCHMARKS.md); ARGS=--records N
	$(PY) -m bench.warc_bench $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache demo-data
