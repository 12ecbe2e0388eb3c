# gtwatch developer commands. Every target builds the pinned virtualenv when it is missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help demo test test-fast lint typecheck soak bench synth synth-spokes lint-template bootstrap deploy destroy clean

help:
	@echo "make demo          - run the watcher on the local emulator through a day and a night and show what people get"
	@echo "                     (.venv/bin/gtwatch demo --day accounts: a day across three accounts and four regions)"
	@echo "make test          - ruff, mypy and the whole test suite (what CI runs; on 2 cores about 3 minutes with"
	@echo "                     .venv built, about 4 from a clean clone)"
	@echo "make test-fast     - the unit and template tests, no mypy (under 30 seconds): the loop while changing code"
	@echo "make lint          - ruff check, ruff format --check and the import-linter layers contract (part of make test)"
	@echo "make typecheck     - strict mypy over the code, infra and tests (part of make test)"
	@echo "make bench         - measure API calls, time, import time and memory per run; writes docs/performance.md"
	@echo "make soak          - the exactly-once property test with fresh randomness and 3000 schedules"
	@echo "                     (make test runs 60 fixed ones; GTWATCH_PROPERTY_EXAMPLES=500 make test runs more)"
	@echo "make synth         - synthesize the CloudFormation template into cdk.out/ (cdk-nag on)"
	@echo "make synth-spokes  - synthesize the spoke stacks and the StackSet template into cdk.out.spokes/ (docs/deploy.md)"
	@echo "make lint-template - make synth, then cfn-lint on the template"
	@echo "make bootstrap     - once per account and region: the CDK's staging bucket and deployment roles"
	@echo "make deploy        - deploy (or upgrade) the stack with the pinned CDK CLI (docs/deploy.md)"
	@echo "make destroy       - delete the stack after asking; the state table and its key are kept (docs/deploy.md)"
	@echo "make clean         - remove .venv, cdk.out and node_modules"

$(BIN)/gtwatch: requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

demo: $(BIN)/gtwatch
	$(BIN)/gtwatch demo

# The layers contract (pyproject.toml, [tool.importlinter]) is checked from functions/, where the package lives.
lint: $(BIN)/gtwatch
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	cd functions && ../$(BIN)/lint-imports --config ../pyproject.toml

TYPED := functions/watcher gtwatch infra app.py spoke_app.py tests
# Both cores, with work stealing: a few tests (the property test's two halves, a synthesis) take far longer than
# the rest, and a worker that finishes early takes over what is still queued on the other.
PYTEST := $(BIN)/pytest -n 2 --dist worksteal

typecheck: $(BIN)/gtwatch
	$(BIN)/mypy $(TYPED)

# mypy (a minute or more from a clean clone, most of it reading the CDK's types) runs beside pytest rather than
# before it; its report is printed after pytest's, and either failing fails the target.
test: lint
	@report=$$(mktemp); \
	echo "$(BIN)/mypy $(TYPED)  (in the background)"; \
	$(BIN)/mypy $(TYPED) >"$$report" 2>&1 & mypy=$$!; \
	echo "$(PYTEST)"; \
	$(PYTEST); tests=$$?; \
	wait $$mypy; types=$$?; \
	echo "--- mypy"; cat "$$report"; rm -f "$$report"; \
	exit $$(( tests || types ))

# The quick loop while changing code: pure tests and the synthesized template, no mypy, no emulator.
test-fast: $(BIN)/gtwatch
	$(PYTEST) tests/unit tests/infra

# Cost and speed of a watcher run, measured on the emulator; rewrites docs/performance.md (not part of make test).
bench: $(BIN)/gtwatch
	$(BIN)/python -m gtwatch.sim.bench --output docs/performance.md

# Nightly-style: new random schedules each time, on both cores; a failure prints the schedule to reproduce it.
soak: $(BIN)/gtwatch
	GTWATCH_PROPERTY_RANDOM=1 GTWATCH_PROPERTY_EXAMPLES=3000 $(BIN)/pytest -n 2 tests/property -k every

# --- deployment (docs/deploy.md) -------------------------------------------------------------------------
# The CDK CLI pinned in package.json / package-lock.json, installed with npm when missing or when the lock changes.
CDK := node_modules/.bin/cdk
# Extra arguments for the CDK CLI, e.g. make deploy CDK_ARGS="--require-approval never --profile prod".
CDK_ARGS ?=


$(CDK): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

# Writes cdk.out/. cdk-nag's AwsSolutions pack runs as part of synthesis: an unacknowledged finding fails it.
synth: $(BIN)/gtwatch
	$(BIN)/python app.py

# Many accounts: a spoke stack per listed account and region, and GtwatchSpoke, the template for a StackSet.
synth-spokes: $(BIN)/gtwatch
	$(BIN)/python spoke_app.py

# cfn-lint on the synthesized template. W3005 is CDK's own explicit DependsOn on each function's role.
lint-template: synth
	$(BIN)/cfn-lint --ignore-checks W3005 -- cdk.out/*.template.json

# Once per account and region: the CDK's staging bucket and deployment roles.
bootstrap: $(BIN)/gtwatch $(CDK)
	$(CDK) bootstrap $(CDK_ARGS)

deploy: $(BIN)/gtwatch $(CDK)
	$(CDK) deploy $(CDK_ARGS)

# Asks first. The state table and the key are kept, and a later deploy does not reuse them (docs/deploy.md).
destroy: $(BIN)/gtwatch $(CDK)
	$(CDK) destroy $(CDK_ARGS)

clean:
	rm -rf $(VENV) cdk.out cdk.out.spokes node_modules
