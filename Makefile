# The two commands of the README: `make run` and `make test`. Everything else is theirs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
NPM_STAMP := node_modules/.package-lock.json
CHART_JS := static/vendor/chart.umd.js
MO_FILES := $(patsubst %.po,%.mo,$(wildcard translations/*/LC_MESSAGES/messages.po))
export FLASK_APP := ppc_robot.web:create_app

.PHONY: setup run test test-sqlite test-postgres lint chromium bench-folders bench-scheduler bench-outputs bench-concurrency bench-contention bench-stats-refresh bench-stats-backfill assets node bench-dashboard bench-anomalies bench-urlcheck bench-alert-rules translations

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

setup: $(STAMP) assets translations

# Browser assets (Chart.js) come from npm, pinned in package.json and package-lock.json, and are
# copied into the git-ignored static/vendor/; Node and npm are installed with apt when missing.
node:
	@command -v npm >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq nodejs npm; }

$(NPM_STAMP): package.json package-lock.json | node
	npm ci --no-audit --no-fund
	touch $(NPM_STAMP)

$(CHART_JS): $(NPM_STAMP)
	mkdir -p $(dir $@)
	cp node_modules/chart.js/dist/chart.umd.js $@

assets: $(CHART_JS)

# The gettext catalogs: translations/<locale>/LC_MESSAGES/messages.po is committed, its .mo is
# compiled here (and by the test session when missing or older); see the README's "Translations".
translations/%/LC_MESSAGES/messages.mo: translations/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -i $< -o $@ -l $*

translations: $(MO_FILES)

## Set up, migrate, seed the demo and serve on http://127.0.0.1:5000
run: $(STAMP) assets translations
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	PPC_ROBOT_START_WORKER=1 $(BIN)/flask run --host 127.0.0.1 --port 5000

## Set up and run the whole suite: lint, then SQLite, then PostgreSQL
test: lint test-sqlite test-postgres

# The browser tests drive Debian's chromium and the XLSX tests read files back with LibreOffice;
# install them when missing (needs root or sudo).
chromium:
	@{ command -v chromium && command -v soffice; } >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends libreoffice-calc; }

lint: $(STAMP)
	$(BIN)/ruff check .

test-sqlite: $(STAMP) assets translations chromium
	$(BIN)/python -m pytest

# Under CI=true PostgreSQL is required: the run fails, never skips, when it does not answer.
test-postgres: $(STAMP) assets translations chromium
	@if $(BIN)/python -c "import psycopg; psycopg.connect('postgresql://postgres@127.0.0.1:5432/test', connect_timeout=3).close()" 2>/dev/null; then \
		echo "== the suite again on PostgreSQL =="; \
		TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/python -m pytest; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL does not answer at 127.0.0.1:5432, and CI=true requires it." >&2; exit 1; \
	else \
		echo "PostgreSQL does not answer at 127.0.0.1:5432: the PostgreSQL run is skipped (CI=true requires it)."; \
	fi

## Benchmark (not a test): folder and search pages vs a bare endpoint, 10,000 folders / 100,000 jobs
bench-folders: $(STAMP)
	$(BIN)/python -m bench.folders

## Benchmark (not a test): 10,000 due jobs through the scheduler tick; per-run bookkeeping
bench-scheduler: $(STAMP)
	$(BIN)/python -m bench.scheduler

## Benchmark (not a test): report pipeline vs raw XlsxWriter rows/s; a large report's peak RSS
bench-outputs: $(STAMP)
	$(BIN)/python -m bench.outputs

## Benchmark (not a test): a 50-account job against a stand-in answering after 200 ms
bench-concurrency: $(STAMP)
	$(BIN)/python -m bench.concurrency

## Benchmark (not a test): 20 writers for 60 s against flask run on SQLite; target 0 errors
bench-contention: $(STAMP)
	$(BIN)/python -m bench.contention

## Benchmark (not a test): the store's daily refresh of 500 accounts, 200 ms answers, concurrency 8
bench-stats-refresh: $(STAMP)
	$(BIN)/python -m bench.stats refresh

## Benchmark (not a test): the store's 13-month backfill of one account; platform requests
bench-stats-backfill: $(STAMP)
	$(BIN)/python -m bench.stats backfill

## Benchmark (not a test): the dashboard vs a bare endpoint, 200 clients / 500 accounts / 13 months
bench-dashboard: $(STAMP)
	$(BIN)/python -m bench.dashboard

bench-anomalies: $(STAMP)
	$(BIN)/python -m bench.anomalies

## Benchmark (not a test): the URL checker, 10,000 URLs answered after 100 ms, concurrency 32
bench-urlcheck: $(STAMP)
	$(BIN)/python -m bench.urlcheck

## Benchmark (not a test): 50 custom alert rules over 500 accounts × 20 campaigns, 13 months stored
bench-alert-rules: $(STAMP)
	$(BIN)/python -m bench.alert_rules
