# The two commands of the README. Both set up everything on a fresh machine.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA ?= $(firstword $(wildcard $(STREAM_XML_DATA)) $(wildcard ../shared/datasets))
OUT ?= out/yeast
# main job: iHOMER beside one multi-label adaptive tree and a plain one on river's bundled Yeast
# stream (add --model br-ht for river's binary relevance; it alone takes about 15 s)
RUN_MODELS ?= --model ihomer --model mlhat --model mlht
# the streams of the side-by-side benchmark against MOA and river (make bench)
BENCH_SOURCES ?= --source yeast --source tmc2007-500 --source Imdb --source delicious

.PHONY: run test test-quick install install-dev moa bench clean clean-kernels

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[report]"
	touch $@

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[report,bench]"
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

# MOA's moa.jar (from the capymoa wheel, without installing capymoa) for the bench and its tests
moa: | $(BIN)/python
	$(BIN)/python -m stream_xml.bench.moa fetch

run: install
	$(BIN)/stream-xml evaluate --source yeast $(RUN_MODELS) --out $(OUT)
	@echo "open $(OUT)/report.html"

# make test: install with the dev extras, then the whole suite (slow and broker tests included)
test: install-dev moa
	STREAM_XML_DATA=$(DATA) $(BIN)/python -m pytest -q --doctest-modules stream_xml connectors tests

# quicker local loop: skip slow and broker tests
test-quick: install-dev
	STREAM_XML_DATA=$(DATA) $(BIN)/python -m pytest -q -m "not slow and not broker" --doctest-modules stream_xml connectors tests

# stream-xml beside river, MOA and Vowpal Wabbit, records/s and accuracy (experiments/RESULTS.md has the figures)
bench: $(VENV)/.installed-bench moa
	STREAM_XML_DATA=$(DATA) $(BIN)/stream-xml bench $(BENCH_SOURCES) --out out/bench

clean: clean-kernels
	rm -rf $(VENV) out build *.egg-info

# numba's on-disk caches: a kernel that calls one in another module keeps the callee it was
# compiled with until its own file changes, so measure after editing a kernel module from clean
clean-kernels:
	find stream_xml connectors -name '*.nbi' -delete -o -name '*.nbc' -delete
