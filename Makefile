# Two commands for people: `make lab` and `make test`. `make bench` measures; `make setup` only installs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stutor-installed
# Offline on purpose: tests and committed outputs use the embedded default, never the Hub.
OFFLINE := HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1
QUIET := STUTOR_QUIET=1 TOKENIZERS_PARALLELISM=false PYDEVD_DISABLE_FILE_VALIDATION=1
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
LAB_PORT ?= 8888

.PHONY: setup lab test lint unit notebooks bench execute clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[course]"
	touch $(STAMP)

setup: $(STAMP)

lab: setup
	$(BIN)/jupyter lab --notebook-dir=notebooks --port=$(LAB_PORT) $(ROOT_FLAG)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

unit: setup
	$(OFFLINE) $(QUIET) $(BIN)/pytest -q tests

notebooks: setup
	$(OFFLINE) $(QUIET) $(BIN)/pytest -q --nbval-lax --nbval-sanitize-with nbval_sanitize.cfg notebooks

test: lint unit notebooks

bench: setup
	$(OFFLINE) $(QUIET) $(BIN)/python benchmarks/run_all.py

# Re-execute every notebook in place with the embedded default (what gets committed).
execute: setup
	$(OFFLINE) $(QUIET) $(BIN)/python benchmarks/execute_notebooks.py notebooks

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
