# Two commands for a newcomer: `make run` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test test-fast test-fast-0 test-fast-1 check bench clean

$(VENV)/.runtime: requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

run: $(VENV)/.runtime
	$(VENV)/bin/streamlit run server.py --server.port $(PORT)

check: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

# Everything: lib doctests, unit and page tests, the browser tests (Chromium) and the reliability scenarios.
test: check
	$(PY) -m pytest $(PYTEST_ARGS)

# The quick loop while working: everything but the browser and reliability tests, in two
# pytest processes at once (one per core, each taking every other test); make prints each
# one's report when it ends.
test-fast: check
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-fast-0 test-fast-1

test-fast-0 test-fast-1: test-fast-%:
	$(PY) -m pytest -q -m "not browser and not reliability" --shard=$*/2 $(PYTEST_ARGS)

bench: $(VENV)/.dev
	$(PY) bench/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
