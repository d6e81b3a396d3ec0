# Two commands for a newcomer: `make run` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
WORKERS ?= $(shell $(PYTHON) -c 'import os; n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(); print(min(max(n or 1, 2), 4))')

.PHONY: run test test-fast check bench clean

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

# The quick loop while working: everything but the browser and reliability tests (their
# folders are not even collected), spread over one process per core this process may use
# (pytest-xdist): two at least, since the tests also wait on servers, and four at most, as
# each process starts a PostgreSQL cluster of its own (WORKERS=n to choose).
# loadgroup hands out tests one by one, except a module that starts a server or simulator
# of its own (marked xdist_group): its tests stay together, so that is started once.
# Compiled modules and the rewritten test files are kept in .venv/pycache between runs even
# where PYTHONDONTWRITEBYTECODE is set: every process would compile them all again (~5 s each).
test-fast: check
	PYTHONDONTWRITEBYTECODE= PYTHONPYCACHEPREFIX=$(abspath $(VENV))/pycache \
		$(PY) -m pytest -q -n $(WORKERS) --dist loadgroup -m "not browser and not reliability" \
		--ignore=tests/e2e --ignore=tests/reliability $(PYTEST_ARGS)

bench: $(VENV)/.dev
	$(PY) bench/run_all.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
