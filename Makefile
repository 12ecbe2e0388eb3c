# gtwatch developer commands. Every target builds the pinned virtualenv when it is missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help demo test lint typecheck soak bench synth deploy destroy clean

help:
	@echo "make demo     - run the watcher on the local emulator through a realistic day and show the notifications"
	@echo "make test     - ruff, mypy and the whole test suite (what CI runs)"
	@echo "make bench    - measure API calls, time, import time and memory per run; writes docs/performance.md"
	@echo "make soak     - the exactly-once property test with fresh randomness and 3000 schedules"
	@echo "make synth    - synthesize the CloudFormation template into cdk.out/ (cdk-nag on)"
	@echo "make deploy   - deploy the stack with the pinned CDK CLI (docs/deploy.md); make destroy removes it"

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
	$(BIN)/pytest -n 2

# Cost and speed of a watcher run, measured on the emulator; rewrites docs/performance.md (not part of make test).
bench: $(BIN)/gtwatch
	$(BIN)/python -m gtwatch.sim.bench --output docs/performance.md

# Nightly-style: new random schedules each time; a failure prints the schedule to reproduce it.
soak: $(BIN)/gtwatch
	GTWATCH_PROPERTY_RANDOM=1 GTWATCH_PROPERTY_EXAMPLES=3000 $(BIN)/pytest tests/property -k every

# --- deployment (docs/deploy.md) -------------------------------------------------------------------------
# The CDK CLI pinned in package.json / package-lock.json, installed with npm when missing or when the lock changes.
CDK := node_modules/.bin/cdk
# Extra arguments for the CDK CLI, e.g. make deploy CDK_ARGS="--require-approval never --profile prod".
CDK_ARGS ?=

.PHONY: lint-template bootstrap

$(CDK): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# Writes cdk.out/. cdk-nag's AwsSolutions pack runs as part of synthesis: an unacknowledged finding fails it.
synth: $(BIN)/gtwatch
	$(BIN)/python app.py

# cfn-lint on the synthesized template. W3005 is CDK's own explicit DependsOn on each function's role.
lint-template: synth
	$(BIN)/cfn-lint --ignore-checks W3005 -- cdk.out/*.template.json

# Once per account and region: the CDK's staging bucket and deployment roles.
bootstrap: $(BIN)/gtwatch $(CDK)
	$(CDK) bootstrap $(CDK_ARGS)

deploy: $(BIN)/gtwatch $(CDK)
	$(CDK) deploy $(CDK_ARGS)

# Asks first. The state table and the key are kept (see docs/deploy.md).
destroy: $(BIN)/gtwatch $(CDK)
	$(CDK) destroy $(CDK_ARGS)

clean:
	rm -rf $(VENV) cdk.out node_modules
