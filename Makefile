# Gridline — the make targets are the interface (README.md). `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: help run test test-chaos unit integration bench lint schemas train stack-up stack-down clean browser

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev,train]'
	@touch $(STAMP)

jars: $(STAMP)
	$(PY) -m deploy.local.stack jars

run: $(STAMP) jars ## bring everything up and feed a live demo stream (Ctrl-C stops it all)
	$(PY) -m deploy.local.run

# The console's browser test drives Debian's chromium (Playwright's own download is not reachable); a CJK
# font makes Chinese render. Installed only when missing (CI starts on a fresh machine as root).
browser: ## install Debian's chromium and a CJK font for the console's browser test, when missing
	@if ! command -v chromium >/dev/null || ! fc-list :lang=zh 2>/dev/null | grep -q .; then \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$SUDO apt-get update && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y chromium fonts-wqy-microhei; \
	fi

test: $(STAMP) jars browser ## unit + integration tests (with the console's browser test) against the real Kafka and PostgreSQL
	$(PY) -m pytest -q -p no:cacheprovider tests --ignore=tests/chaos

test-chaos: $(STAMP) jars ## the fault suite: kill -9 services, broker and database under load; poison; fuzz
	$(PY) -m pytest -q -p no:cacheprovider -s tests/chaos

unit: $(STAMP) ## unit tests only (no broker, no database)
	$(PY) -m pytest -q tests/unit

bench: $(STAMP) jars ## benchmarks, reported as ratios against floors measured in the same run
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	$(PY) -m bench $(BENCH_ARGS)

lint: $(STAMP) ## ruff and mypy --strict on service code
	$(VENV)/bin/ruff check schemas services runtime simcity deploy tests bench
	$(VENV)/bin/mypy

train: $(STAMP) ## rebuild the classifier artefact from the labelled corpus (deterministic; classification/README)
	$(PY) -m services.router.classification.training.train

schemas: $(STAMP) ## regenerate schemas/json/*.json and schemas/asyncapi.yaml from the models
	$(PY) -m schemas.generate

stack-up: $(STAMP) jars ## start only Kafka + PostgreSQL (profile run)
	$(PY) -m deploy.local.stack up

stack-down: ## stop the local Kafka + PostgreSQL of every profile
	-$(PY) -m deploy.local.stack down --profile run
	-$(PY) -m deploy.local.stack down --profile test
	-$(PY) -m deploy.local.stack down --profile bench
	-$(PY) -m deploy.local.stack down --profile browser
	-$(PY) -m deploy.local.stack down --profile chaos

clean: stack-down ## remove local data (.local) — the venv stays
	rm -rf .local/run .local/test .local/bench .local/browser .local/chaos .local/city
