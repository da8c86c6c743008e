# Two commands matter: `make run` starts the product, `make test` runs every test.
# Both create the virtual environment and install the project first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run test lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/lifecycle dev --demo

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python -m bench.event_store
	$(BIN)/python -m bench.signoff_latency
	$(BIN)/python -m bench.lifecycle_throughput
	$(BIN)/python -m bench.inflight
	$(BIN)/python -m bench.audit_and_projections

clean:
	rm -rf $(VENV) .lifecycle .pytest_cache .mypy_cache .ruff_cache
