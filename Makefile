# Two commands do everything on a fresh machine: `make sync` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
BIN     := $(VENV)/bin
MELTANO := $(BIN)/meltano
UV      := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
STAMP   := $(VENV)/.installed
SANDBOX_DIR ?= .sandbox
DEMO_SIZE   ?= 200
# the marketing platform of `make sync`: autopilot or activecampaign
PLATFORM    ?= autopilot
SYNC_JOB    := $(if $(filter activecampaign,$(PLATFORM)),consent-sync-activecampaign,consent-sync)

export MELTANO_SEND_ANONYMOUS_USAGE_STATS := false

.PHONY: help install sync test lint bench chaos sandbox-start sandbox-stop clean

help:
	@echo "make sync   - start the sandbox if needed and run the two-way consent sync once"
	@echo "              (PLATFORM=activecampaign for ActiveCampaign instead of Autopilot)"
	@echo "make test   - run every test (unit, conformance, end-to-end)"
	@echo "make lint   - ruff"
	@echo "make bench  - benchmarks: API calls per record, throughput, memory"
	@echo "make chaos  - chaos suite: TRIALS=20 disturbed two-way histories vs undisturbed"

$(STAMP): pyproject.toml uv.lock */pyproject.toml meltano.yml
	@python3 -m uv --version >/dev/null 2>&1 || command -v uv >/dev/null 2>&1 \
		|| python3 -m pip install --quiet uv
	$(UV) sync --all-packages --locked --compile-bytecode
	$(MELTANO) install
	@# bytecode ahead of time: where PYTHONDONTWRITEBYTECODE is set (CI machines often do), every
	@# plugin process of every run would otherwise compile its imports again (3x the start-up CPU)
	$(BIN)/python -m compileall -q -j 0 -x '/(\.venv|\.git|\.sandbox)/' .meltano $(dir $(wildcard */*/__init__.py)) >/dev/null
	@touch $@

install: $(STAMP)

sandbox-start: $(STAMP)
	@$(BIN)/consent-sandbox start --state-dir $(SANDBOX_DIR) --demo-size $(DEMO_SIZE)

sandbox-stop: $(STAMP)
	@$(BIN)/consent-sandbox stop --state-dir $(SANDBOX_DIR)

# MELTANO_RUN_FORCE as in the schedule: a run killed a moment ago must not block this one (the
# consent mapper's lease on the ledger serializes runs of one direction). The sandbox's ports (free
# ones when 8443-8445 are taken) reach meltano.yml's `sandbox` environment as CONSENTSYNC_SANDBOX_*.
# Meltano caches each tap's catalog by its settings alone: a tap whose code changed discovers again
CATALOGS := .meltano/run/.catalogs
$(CATALOGS): $(wildcard tap-*/tap_*/*.py) | $(STAMP)
	rm -f .meltano/run/tap-*/tap.properties.cache_key
	@mkdir -p $(dir $@) && touch $@

sync: sandbox-start $(CATALOGS)
	sandbox_env="$$($(BIN)/consent-sandbox env --state-dir $(SANDBOX_DIR))" && eval "$$sandbox_env" && \
		MELTANO_RUN_FORCE=true $(MELTANO) --environment=sandbox run $(SYNC_JOB)
	@$(BIN)/consent-sandbox status --state-dir $(SANDBOX_DIR)
	@$(BIN)/consent-ledger last-run

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 4 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python -m benchmarks

TRIALS ?= 20
chaos: $(STAMP)
	$(BIN)/python -m chaos --trials $(TRIALS) $(CHAOS_ARGS)

clean:
	-$(BIN)/consent-sandbox stop --state-dir $(SANDBOX_DIR) 2>/dev/null
	rm -rf $(VENV) .meltano $(SANDBOX_DIR)
