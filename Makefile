# Two commands matter: `make run` starts the product, `make test` runs every test.
# Both create the virtual environment and install the project first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install bytecode run test lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Temporal's workflow sandbox imports the workflow modules afresh for every workflow it loads
# (a new product, a cache miss, a replay). With no bytecode on disk, which is what a machine
# with PYTHONDONTWRITEBYTECODE set has, each load compiles them from source again: about a
# sixth of a replay's cost (bench/workflow_loading.py, docs/performance.md). compileall writes the
# bytecode whatever that variable says and only recompiles what changed; a checkout it cannot
# write to only loses the speed, hence the leading "-".
bytecode: $(STAMP)
	-$(BIN)/python -m compileall -q domain workflows activities store runtime playbooks api cli bench tests

run: bytecode
	$(BIN)/lifecycle dev --demo

test: bytecode
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: bytecode
	$(BIN)/python -m bench.event_store
	$(BIN)/python -m bench.signoff_latency
	$(BIN)/python -m bench.lifecycle_throughput
	$(BIN)/python -m bench.inflight
	$(BIN)/python -m bench.audit_and_projections

clean:
	rm -rf $(VENV) .lifecycle .pytest_cache .mypy_cache .ruff_cache
