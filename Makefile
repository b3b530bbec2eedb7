# The two commands of the README: `make dev` serves plangate on its embedded defaults,
# `make test` runs the whole suite on SQLite and PostgreSQL from nothing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: dev test suite test-examples test-fast lint generate ts-types bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# The server and the Python SDK (clients/python, which the server depends on), both editable.
$(STAMP): pyproject.toml clients/python/pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e clients/python -e '.[dev]'
	touch $(STAMP)

dev: $(STAMP)
	$(BIN)/plangate dev --host $(HOST) --port $(PORT)

# Lint and the suite, side by side: mypy on a fresh clone takes about 15 s of one core, which
# the suite's start (collection, three workers, PostgreSQL) leaves idle; either failing fails
# `make test`. In the suite nothing may skip: PostgreSQL, chromium and the vendored fixtures
# are required, and a missing one fails the run. The 15 slowest tests are listed at the end:
# the whole run should stay under 10 minutes on 2 cores. Bytecode is written even where
# PYTHONDONTWRITEBYTECODE is set: the suite starts many Python processes (the CLI, the served
# and chaos processes), each of which would compile plangate anew, and pytest keeps its
# rewritten test modules there for the next run (__pycache__ is ignored).
# Three pytest workers on two cores: a test spends about a third of its time waiting (for
# servers, subprocesses, the browser, the database), which a third worker fills.
test: $(STAMP)
	$(MAKE) --no-print-directory -j2 lint suite

suite: $(STAMP)
	scripts/ensure-browser --require
	PYTHONDONTWRITEBYTECODE= PLANGATE_TEST_NO_SKIPS=1 scripts/with-postgres --require $(BIN)/python -m pytest -n 3 --dist worksteal --durations=15 $(PYTEST_ARGS)

# Only the example apps' tests (`make test` runs them too): examples/nextjs built for
# production (npm ci and next build when out of date) and driven in Chromium against a real
# `plangate dev`.
test-examples: $(STAMP)
	scripts/ensure-browser --require
	$(BIN)/python -m pytest tests/examples $(PYTEST_ARGS)

# The suite on SQLite only, without the browser and PostgreSQL set-up.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist worksteal -m "not browser" $(PYTEST_ARGS)

# ruff, the import contracts of pyproject.toml (the layers) and mypy --strict, each with its
# cache, so a second run takes seconds.
lint: $(STAMP)
	$(BIN)/ruff check src tests clients/python bench/capacity_model.py bench/chaos bench/throughput.py bench/renewal_burst.py bench/sandbox_scale.py
	$(BIN)/lint-imports
	$(BIN)/mypy src/plangate clients/python/src/plangate_sdk clients/python/scripts bench/capacity_model.py bench/chaos bench/throughput.py bench/renewal_burst.py bench/sandbox_scale.py

# What is generated and checked in: the sync Python client from the async one
# (tests/sdk/test_generated_client.py checks it) and the TypeScript client's types.
generate: $(STAMP) ts-types
	$(BIN)/python clients/python/scripts/generate_sync.py

# The TypeScript client's types, generated from the API document the server produces now;
# tests/clients/test_typescript.py fails while they differ. npm ci runs only when the lock changed.
TS := clients/typescript
$(TS)/node_modules/.plangate-installed: $(TS)/package.json $(TS)/package-lock.json
	cd $(TS) && npm ci --no-audit --no-fund
	touch $@

ts-types: $(STAMP) $(TS)/node_modules/.plangate-installed
	$(BIN)/plangate openapi --output $(TS)/openapi.json
	cd $(TS) && npm run --silent generate -- openapi.json --output src/schema.ts
	rm $(TS)/openapi.json

bench: $(STAMP)
	scripts/with-postgres $(BIN)/python -m bench.run_all

clean:
	rm -rf $(VENV) .plangate .pytest_cache .hypothesis $(TS)/node_modules $(TS)/dist \
		examples/nextjs/node_modules examples/nextjs/.next tests/sandbox/node/node_modules
