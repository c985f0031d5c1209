# The chapter membership system: `make run` (local demo), `make test` (whole suite).
# Works from a fresh clone: the virtual environment (.venv) is created and filled on demand,
# and pip runs again only when requirements*.txt change (a stamp file per content hash).

PYTHON ?= python3
VENV := .venv
VPY := $(VENV)/bin/python
PYTEST_ARGS ?=
# Test processes (pytest-xdist): 2 for the machine's 2 cores; PYTEST_WORKERS=0 runs in this process.
PYTEST_WORKERS ?= 2
BENCH_ARGS ?=

# Content hashes of the requirement files (cksum is POSIX, so no extra tool is needed).
RUN_HASH := $(shell cat requirements.txt 2>/dev/null | cksum | cut -d' ' -f1)
DEV_HASH := $(shell cat requirements.txt requirements-dev.txt 2>/dev/null | cksum | cut -d' ' -f1)
RUN_STAMP := $(VENV)/.installed-run-$(RUN_HASH)
DEV_STAMP := $(VENV)/.installed-dev-$(DEV_HASH)

.DEFAULT_GOAL := help
.PHONY: help run test bench mutate venv install install-dev clean

help: ## Show the targets
	@echo "make run      serve the demo on http://127.0.0.1:5000 (SQLite in instance/, localstripe on :8420)"
	@echo "make test     run the whole test suite (PYTEST_ARGS='-k roster -x' to narrow it, PYTEST_WORKERS=0 for one process)"
	@echo "make bench    run the benchmarks (BENCH_DATABASE_URL for PostgreSQL, BENCH_ARGS='roster' for one group)"
	@echo "make mutate   mutation testing of the rule modules (MODULE=permissions for one; slow, not part of make test)"
	@echo "make venv     create .venv with $(PYTHON)"
	@echo "make install  install requirements.txt into .venv (install-dev: requirements-dev.txt too)"
	@echo "make clean    remove .venv and caches (instance/, the local database, is kept)"

run: $(RUN_STAMP) ## Serve the demo locally
	bash scripts/run-dev.sh

test: $(DEV_STAMP) ## Run the whole test suite
	@rc=0; $(VPY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5); treating as success." >&2; rc=0; fi; \
	exit $$rc

bench: $(DEV_STAMP) ## Run the benchmarks
	$(VPY) -m bench $(BENCH_ARGS)

# Mutation score of the rule modules, one module at a time (see docs/mutation.md). MODULE= picks some.
MODULE ?=
mutate: $(DEV_STAMP) ## Mutation testing of the rule modules
	$(VPY) scripts/mutate.py $(MODULE)

venv: $(VPY)

install: $(RUN_STAMP)

install-dev: $(DEV_STAMP)

$(VPY):
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): requirements.txt | $(VPY)
	$(VPY) -m pip install --disable-pip-version-check -q -r requirements.txt
	@rm -f $(VENV)/.installed-run-*
	@touch $@

# requirements-dev.txt includes requirements.txt, so this stamp covers the runtime one too.
$(DEV_STAMP): requirements.txt requirements-dev.txt | $(VPY)
	$(VPY) -m pip install --disable-pip-version-check -q -r requirements-dev.txt
	@rm -f $(VENV)/.installed-dev-* $(VENV)/.installed-run-*
	@touch $@ $(RUN_STAMP)

clean: ## Remove the virtual environment and caches
	rm -rf $(VENV) .pytest_cache bench-results
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
