# smartflow-gov — every target installs what it needs into a fresh .venv from pyproject.toml.
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
SCALE  ?= 1
PYTEST_ARGS ?=

SMOKE  ?= /tmp/smartflow-install-check
PROJECT_FILES := smartflow.yaml glossary classifications expectations manifests alerts policies domains

.PHONY: install demo nightly test test-fast lint bench clean chromium install-check

$(STAMP): pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

## demo: build the embedded demo lake and run the nightly job on it (exit 1 = the demo's injected defects were found)
demo: install
	$(BIN)/smartflow-gov demo init --scale $(SCALE) --force
	$(BIN)/smartflow-gov nightly; rc=$$?; [ $$rc -le 1 ] || exit $$rc

## chromium: Debian's chromium for the report tests (installed as root when missing; otherwise a no-op)
chromium:
	@if [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" != 0 ]; then echo "chromium is missing and this is not root: the report browser tests will be skipped"; \
	else apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }; fi

## test: the whole suite, slow tests included (as CI runs it)
test: install chromium
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## test-fast: skip Spark, large-data and external-process tests
test-fast: install
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

## install-check: the wheel without extras in a fresh venv (outside the repo) runs the demo and the nightly job
install-check:
	rm -rf $(SMOKE) && mkdir -p $(SMOKE)/project && python3 -m venv $(SMOKE)/venv
	$(SMOKE)/venv/bin/python -m pip install -q --upgrade pip
	$(SMOKE)/venv/bin/python -m pip wheel -q --no-deps -w $(SMOKE)/dist .
	$(SMOKE)/venv/bin/python -m pip install -q $(SMOKE)/dist/*.whl
	cp -r $(PROJECT_FILES) $(SMOKE)/project/
	cd $(SMOKE)/project && env -u PYTHONPATH $(SMOKE)/venv/bin/smartflow-gov demo init --scale 0.02
	cd $(SMOKE)/project && env -u PYTHONPATH $(SMOKE)/venv/bin/smartflow-gov nightly; rc=$$?; [ $$rc -le 1 ] || exit $$rc

lint: install
	$(BIN)/ruff check governance tests bench
	$(BIN)/ruff format --check governance tests bench
	$(BIN)/mypy

bench: install
	for f in bench/*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) .smartflow lake reports
