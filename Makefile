# newsflow: every command a user or CI needs. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help install demo test test-unit lint format eval bench bench-pipeline bench-api bench-backlog bench-writes bench-warc bench-stages lock check-deploy clean

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

eval: $(STAMP)  ## parse scores on real pages (beside trafilatura) and on the generated regression corpus; entity scores; enrichment on real pages
	$(PY) -m bench.eval_realpages --worse
	@echo
	$(PY) -m bench.eval_parse
	$(PY) -m bench.eval_entities
	$(PY) -m bench.eval_enrich_real

bench: $(STAMP)  ## parse speed against trafilatura on the same pages
	$(PY) -m bench.parse_bench

bench-pipeline: $(STAMP)  ## end-to-end throughput and latency vs a no-queue baseline (BENCHMARKS.md); ARGS=--quick, or --stored 100000,1000000 (pre-filled stores)
	$(PY) -m bench.pipeline_bench $(ARGS)

check-deploy: $(STAMP)  ## Docker Compose validates docker-compose.yml (.env.example, secrets filled in); hadolint lints the Dockerfile
	sed -E 's/^(NEWSFLOW_API_TOKEN|POSTGRES_PASSWORD|GRAFANA_ADMIN_PASSWORD)=$$/\1=only-for-make-check-deploy/' .env.example \
	  > $(VENV)/check-deploy.env
	$(VENV)/bin/docker-compose --env-file $(VENV)/check-deploy.env config --quiet
	@echo "docker-compose.yml: valid"
	$(VENV)/bin/hadolint Dockerfile
	@echo "Dockerfile: hadolint clean"

lock: $(STAMP)  ## regenerate requirements.lock (what the image installs) from pyproject.toml; ARGS=--upgrade
	$(PY) -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['build-system']['requires'], sep='\n')" \
	  | $(VENV)/bin/uv pip compile pyproject.toml - --universal --python-version 3.11 --generate-hashes \
	    --custom-compile-command "make lock" --quiet --output-file requirements.lock $(ARGS)

bench-api: $(STAMP)  ## GET /articles, /articles/{id}, comment events and /search p95 on a pre-filled store while workers ingest (BENCHMARKS.md); ARGS=--stored N
	$(PY) -m bench.api_read_bench $(ARGS)

bench-backlog: $(STAMP)  ## 100,000 URLs queued at once: sweep duplicates and cost, before vs after (BENCHMARKS.md); ARGS=--urls N
	$(PY) -m bench.backlog_bench $(ARGS)

bench-writes: $(STAMP)  ## POST /urls p50/p95 with 10 concurrent clients vs one (needs Postgres; BENCHMARKS.md); ARGS=...
	$(PY) -m bench.api_write_bench $(ARGS)

bench-stages: $(STAMP)  ## CPU, SQL statements and commits per article of each stage, in-process (BENCHMARKS.md); ARGS=--compare-with CHECKOUT
	$(PY) -m bench.stage_cost $(ARGS)

bench-warc: $(STAMP)  ## WARC import step vs the parsing it feeds, on 1,000 records of real pages (BENCHMARKS.md); ARGS=--records N
	$(PY) -m bench.warc_bench $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache demo-data
