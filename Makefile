# Two commands for people: `make lab` and `make test`. `make bench` measures; `make setup` only installs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stutor-installed
# Offline on purpose: tests and committed outputs use the embedded default, never the Hub.
OFFLINE := HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1
QUIET := STUTOR_QUIET=1 TOKENIZERS_PARALLELISM=false PYDEVD_DISABLE_FILE_VALIDATION=1 OMP_WAIT_POLICY=PASSIVE
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
LAB_PORT ?= 8888

.PHONY: setup browser lab test lint unit notebooks bench bench-notebooks binder execute html links clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[course,dev]"
	touch $(STAMP)

setup: $(STAMP)

# Debian's chromium for tests/test_browser.py (Playwright drives it; it never downloads a browser).
# Installed when missing and we are root with apt-get; otherwise the test skips (and fails in CI).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser test"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium not found: install Debian's chromium package to run tests/test_browser.py"; fi; }

lab: setup
	$(BIN)/jupyter lab --notebook-dir=notebooks --port=$(LAB_PORT) $(ROOT_FLAG)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# pytest-xdist: TEST_WORKERS processes share the tests; a unit of work is one test file or one notebook
# (--dist loadfile), so a notebook's cells run in order in one kernel and a module's fixtures are built once.
# Units start in collection order, which tests/conftest.py sorts longest first (--no-loadscope-reorder).
TEST_WORKERS ?= 2
XDIST := -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder
# One process imports torch and sentence-transformers and the others fork from it (tests/warm_kernel.py):
# the xdist workers, every notebook's kernel, the browser test's kernel and the DDP test's ranks. Each is
# still a fresh process, without 7 s of imports. `make unit` keeps cold processes.
NBVAL := --nbval-lax --nbval-sanitize-with nbval_sanitize.cfg --warm-kernels
# The cores shared out between the workers: two workers with two threads each on two cores lose
# time to each other. MALLOC_TOP_PAD_: glibc keeps 256 MB spare at the top of each heap instead of
# handing pages back and faulting them in again at every training step (an 8-step run: sys time
# 2.0 -> 0.6 s, 1.0M -> 0.33M page faults, 10-15% faster; the same numbers, about 90 MB more peak).
# Only for tests: what a learner's kernel holds is measured by `make bench`, without it.
THREADS := $(shell n=$$(nproc 2>/dev/null || echo 1); t=$$((n / $(TEST_WORKERS))); echo $$((t > 0 ? t : 1)))
QUIET_TEST := $(QUIET) OMP_NUM_THREADS=$(THREADS) MKL_NUM_THREADS=$(THREADS) MALLOC_TOP_PAD_=268435456

unit: setup browser
	$(OFFLINE) $(QUIET_TEST) $(BIN)/pytest -q $(XDIST) tests

notebooks: setup
	$(OFFLINE) $(QUIET_TEST) $(BIN)/pytest -q $(XDIST) $(NBVAL) notebooks

# Unit tests and notebooks in one pytest session on all workers (one core each by default), so that
# neither half waits for the other; one summary line at the end.
test: lint browser
	$(OFFLINE) $(QUIET_TEST) $(BIN)/pytest -q $(XDIST) $(NBVAL) tests notebooks

bench: setup
	$(OFFLINE) $(QUIET) $(BIN)/python benchmarks/run_all.py

# Only the notebooks' time, peak and idle memory (and the tables and memory needs written from them).
bench-notebooks: setup
	$(OFFLINE) $(QUIET) $(BIN)/python benchmarks/run_all.py --notebooks-only

# The course in JupyterLab in headless Chromium within Binder's 2 GB (a cgroup v1 memory group; skips without one).
binder: setup browser
	$(OFFLINE) $(QUIET) $(BIN)/python benchmarks/bench_binder.py

# Re-execute every notebook in place with the embedded default (what gets committed).
execute: setup
	$(OFFLINE) $(QUIET) $(BIN)/python benchmarks/execute_notebooks.py notebooks

# The executed notebooks (and notebooks/solutions/) as a static site in _site/, for reading without Jupyter.
html: setup
	rm -rf _site
	$(BIN)/python scripts/build_site.py --notebooks notebooks --out _site

# Point every launch link (README badge, notebooks' Binder/Colab links, Colab install line) at your fork.
links:
	@test -n "$(REPO)" || { echo "usage: make links REPO=owner/name (the GitHub repository that hosts the course)"; exit 2; }
	$(PYTHON) scripts/set_links.py "$(REPO)"

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
