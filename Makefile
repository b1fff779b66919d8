# smartflow-gov — every target installs what it needs into a fresh .venv from pyproject.toml.
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
SCALE  ?= 1
PYTEST_ARGS ?=

.PHONY: install demo nightly test test-fast lint bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

## demo: build the embedded demo lake and run the nightly job on it (exit 1 = the demo's injected defects were found)
demo: install
	$(BIN)/smartflow-gov demo init --scale $(SCALE)
	$(BIN)/smartflow-gov nightly; rc=$$?; [ $$rc -le 1 ] || exit $$rc

## test: the whole suite, slow tests included (as CI runs it)
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## test-fast: skip Spark, large-data and external-process tests
test-fast: install
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check governance tests bench
	$(BIN)/mypy

bench: install
	for f in bench/*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .smartflow lake reports
