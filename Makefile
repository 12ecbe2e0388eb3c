# gtwatch developer commands. Every target builds the pinned virtualenv when it is missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help demo test lint typecheck unit synth deploy destroy clean

help:
	@echo "make demo   - run the watcher on the local emulator through a realistic day and show the notifications"
	@echo "make test   - ruff, mypy and the whole test suite"
	@echo "make synth  - synthesize the CloudFormation template into cdk.out/"

$(BIN)/gtwatch: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

demo: $(BIN)/gtwatch
	$(BIN)/gtwatch demo

lint: $(BIN)/gtwatch
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/gtwatch
	$(BIN)/mypy functions/watcher gtwatch infra app.py tests

test: lint typecheck
	$(BIN)/pytest

synth: $(BIN)/gtwatch
	$(BIN)/python app.py

clean:
	rm -rf $(VENV) cdk.out node_modules
