# The two commands of the README. Both set up everything on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA ?= $(firstword $(wildcard $(STREAM_XML_DATA)) $(wildcard ../shared/datasets))
OUT ?= out/yeast
# main job: iHOMER beside the strongest baseline on river's bundled Yeast stream
RUN_MODELS ?= --model ihomer --model br-ht

.PHONY: run test test-quick install install-dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[report]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

run: install
	$(BIN)/stream-xml evaluate --source yeast $(RUN_MODELS) --out $(OUT)
	@echo "open $(OUT)/report.html"

# make test: install with the dev extras, then the whole suite (slow and broker tests included)
test: install-dev
	STREAM_XML_DATA=$(DATA) $(BIN)/python -m pytest -q --doctest-modules stream_xml connectors tests

# quicker local loop: skip slow and broker tests
test-quick: install-dev
	STREAM_XML_DATA=$(DATA) $(BIN)/python -m pytest -q -m "not slow and not broker" --doctest-modules stream_xml connectors tests

clean:
	rm -rf $(VENV) out build *.egg-info
