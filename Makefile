# `make run`: install into .venv and run the main job on the embedded default (SQLite in ./c2watch-data, the lab).
# `make test`: install into .venv (and the Debian packages the tests need) and run the whole test suite.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
export C2WATCH_HOME ?= $(CURDIR)/c2watch-data

.PHONY: install run test lint deps clean

$(BIN)/c2watch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

install: $(BIN)/c2watch

deps:
	scripts/install-debian-deps

run: install
	$(BIN)/c2watch init
	$(BIN)/c2watch demo

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

test: install deps lint
	$(BIN)/pytest

clean:
	rm -rf $(VENV) c2watch-data
