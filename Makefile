# The same commands CI runs (.ci/run), so "it passes locally" means the same thing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install test-setup demo test lint format compose-check

install: $(BIN)/publicist

$(BIN)/publicist: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	@touch $@

demo: install
	$(BIN)/publicist demo

# Installs and starts what the tests need besides Python (browser, fonts, Redis, PostgreSQL).
test-setup:
	bash scripts/test-setup.sh

test: install test-setup
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
