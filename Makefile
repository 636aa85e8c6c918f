# Two entry points: `make run` builds today's digest from the sample feeds, `make test` runs the tests.
# Each creates .venv when it is missing and only reinstalls when pyproject.toml changed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --editable .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --editable '.[test]'
	touch $@ $(VENV)/.run-installed

# The sample feeds are dated 27-28 November 2026: --since takes them into today's edition, which
# the news window (window_hours) would otherwise leave out.
run: $(VENV)/.run-installed
	$(BIN)/digest build --since 2026-11-01

test: $(VENV)/.test-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest
