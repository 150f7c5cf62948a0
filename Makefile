# Sportsman: `make run` serves the demo city, `make test` runs every test.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
SEED_SCALE ?= jx

.PHONY: run test test-sqlite test-e2e test-postgres test-calendar bench install lint check messages clean

# The edge instants of the calendar (Asia/Shanghai): a month, quarter and year end on either side
# of UTC midnight, 29 February, a Monday and a Sunday. `test` runs one of them (EDGE_CLOCK, on
# PostgreSQL); `test-calendar` runs them all on SQLite (docs/testing.md).
CLOCKS ?= 2027-01-31T23:30:00+08:00 2027-06-30T23:30:00+08:00 2026-12-31T23:30:00+08:00 \
	2027-01-01T00:30:00+08:00 2028-02-29T23:30:00+08:00 2027-03-01T00:30:00+08:00 \
	2026-12-07T08:00:00+08:00 2026-12-06T21:00:00+08:00

install: $(STAMP) tools/openactive/node_modules/.package-lock.json

# The OpenActive validators the tests run (docs/openactive.md); skipped where npm is missing.
tools/openactive/node_modules/.package-lock.json: tools/openactive/package-lock.json
	@if command -v npm >/dev/null; then cd tools/openactive && npm ci --no-audit --no-fund --silent; \
	  else echo "npm not found: the OpenActive validator tests will be skipped"; fi

$(STAMP): pyproject.toml
	@PYTHON_BIN=$$(scripts/find-python) && \
	  { [ -x $(PY) ] || $$PYTHON_BIN -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@mkdir -p var
	@touch $(STAMP)

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo --scale $(SEED_SCALE) --if-empty
	$(PY) manage.py serve

# The suite's database tests run on every core (pytest-xdist, WORKERS=auto; each worker has a
# database and a Redis database of its own); the browser tests run once, on one worker: on
# PostgreSQL when TEST_DATABASE_URL is set, else on SQLite (docs/testing.md).
WORKERS ?= auto

test: install
	$(MAKE) --no-print-directory check
	DATABASE_URL= $(PY) -m pytest -q -n $(WORKERS) -m "not e2e" $(PYTEST_ARGS)
	@if [ -n "$$TEST_DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgres; \
	  else echo "TEST_DATABASE_URL is not set: the PostgreSQL pass is skipped."; \
	  $(MAKE) --no-print-directory test-e2e; fi

# Everything on SQLite.
test-sqlite: install
	DATABASE_URL= $(PY) -m pytest -q -n $(WORKERS) -m "not e2e" $(PYTEST_ARGS)
	$(MAKE) --no-print-directory test-e2e

test-e2e: install
	DATABASE_URL= $(PY) -m pytest -q -m e2e $(PYTEST_ARGS)

# The PostgreSQL pass runs at an edge of the calendar (New Year, just after local midnight, still
# the old year in UTC); the browser tests, whose server the clock cannot reach, run at today.
EDGE_CLOCK ?= 2027-01-01T00:30:00+08:00

test-postgres: install
	DATABASE_URL=$$TEST_DATABASE_URL $(PY) -m pytest -q -n $(WORKERS) -m "not e2e" \
	  --clock=$(EDGE_CLOCK) $(PYTEST_ARGS)
	DATABASE_URL=$$TEST_DATABASE_URL $(PY) -m pytest -q -m e2e $(PYTEST_ARGS)

test-calendar: install
	@for clock in $(CLOCKS); do echo "clock: $$clock"; \
	  DATABASE_URL= $(PY) -m pytest -q -n $(WORKERS) -m "not e2e" --clock=$$clock $(PYTEST_ARGS) \
	  || exit 1; done

bench: install
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } \
	  || echo "wrk is not installed (apt-get install wrk): the HTTP figures will be skipped."
	$(PY) -m bench

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy sportsman config

# Lint, types, and migrations committed with the models: part of `make test`.
check: lint
	DATABASE_URL= $(PY) manage.py makemigrations --check --dry-run

messages: install
	$(PY) manage.py makemessages -l zh_Hans --ignore '.venv/*' --ignore 'var/*'
	$(PY) manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf $(VENV) var staticfiles
