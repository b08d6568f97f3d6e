# The same commands CI runs (.ci/run), so "it passes locally" means the same thing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install test-setup demo test lint format compose-check messages

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
	MYPYPATH=examples/publicist-mastodon/src $(BIN)/mypy --strict examples/publicist-mastodon/src
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# After changing a page's words: collect them into the .pot and merge it into each .po, then
# translate the new entries (tests/web/test_i18n.py fails while any is missing).
messages: install
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --omit-header \
		-o publicist/web/locale/messages.pot .
	$(BIN)/pybabel update -i publicist/web/locale/messages.pot -d publicist/web/locale \
		--no-fuzzy-matching --ignore-obsolete -w 100
