# Two commands on a fresh machine: `make run` and `make test`. Everything else is installed here.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
PYTHON ?= python3
export WINDOWSVC_DATABASE_URL ?= sqlite:///$(CURDIR)/var/windowsvc.db

.PHONY: run test test-faults lint format openapi clean postgres-tools browser-tools redis-tools wrk-tools screenshots bench

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev,bench]'
	touch $(STAMP)

# PostgreSQL 15 is on these machines; install it only where it is missing (Debian).
postgres-tools:
	@command -v pg_virtualenv >/dev/null && test -x /usr/lib/postgresql/15/bin/postgres || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 postgresql-common; }

# The pages' browser tests drive Debian's chromium (Playwright cannot download its own here).
browser-tools:
	@command -v chromium >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# The e2e test of the throttle shared by several nodes starts throwaway Debian redis-servers.
redis-tools:
	@command -v redis-server >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; }

# bench (e) loads the servers with wrk (Debian's package).
wrk-tools:
	@command -v wrk >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }

run: $(STAMP)
	bash scripts/run-demo.sh

test: $(STAMP) postgres-tools browser-tools redis-tools lint
	pg_virtualenv -t -v 15 env WINDOWSVC_TEST_POSTGRES=required $(BIN)/pytest -q -p no:cacheprovider -m 'not faults' $(PYTEST_ARGS)

# Database faults: restarts, and the failover of a PostgreSQL pair (primary killed under load,
# standby promoted by scripts/pg-failover.sh), synchronous and asynchronous; the failover tests
# take minutes, so `make test` leaves them out. -rP prints each test's measured figures.
FAULT_TESTS := tests/integration/test_outage.py tests/e2e/test_database_restart.py tests/e2e/test_database_failover.py
test-faults: $(STAMP) postgres-tools lint
	pg_virtualenv -t -v 15 env WINDOWSVC_TEST_POSTGRES=required $(BIN)/pytest -q -p no:cacheprovider -rP $(FAULT_TESTS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Benchmarks against their targets (not a timed test); BENCH_QUICK=1 for smaller sizes,
# BENCH=e (letters) for some of them. (d) and (e) also measure PostgreSQL, in a throwaway
# cluster like the tests, and report it without gating on it. See docs/benchmarks.md.
bench: $(STAMP) postgres-tools wrk-tools
	pg_virtualenv -t -v 15 $(PY) -m bench $(BENCH)

# The pages at desktop and phone width, as the browser tests leave them, into docs/screenshots/.
screenshots: $(STAMP) browser-tools
	WINDOWSVC_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/pytest -q -p no:cacheprovider -m browser tests/browser

openapi: $(STAMP)
	$(BIN)/windowsvc openapi

clean:
	rm -rf var .pytest_cache .hypothesis .ruff_cache
