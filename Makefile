# The README names these targets. `make run` and `make test` do all the set-up.
PYTHON ?= python3
VENV ?= .venv
PORT ?= 8000
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: run test bench lint format clean

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/shopping-sandbox serve --host 127.0.0.1 --port $(PORT)

test: $(VENV)/.installed-test
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(BIN)/python bench/bench.py
	$(BIN)/python bench/startup.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check sandbox tests examples bench
	$(BIN)/mypy sandbox

format: $(VENV)/.installed-test
	$(BIN)/ruff format sandbox tests examples bench

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
