# The two commands of the README: `make demo` and `make test`. Everything else supports them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_DSN ?= postgresql://postgres@127.0.0.1:5432/test
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: demo test venv services lint test-py test-pg test-slow web test-web bench clean

demo: venv ## Generate, approve and execute a plan on the embedded defaults
	$(BIN)/masterplan demo $(if $(REQUEST),--request "$(REQUEST)")

test: venv services lint ## Every test suite; the SQLite and slow suites side by side (2 cores: 5 min, not 9)
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-py test-slow
	@$(MAKE) --no-print-directory test-pg test-web
	@echo "all suites passed"

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev,local]"
	touch $(STAMP)

venv: $(STAMP)

services: ## Start the local PostgreSQL and Redis when they are down
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@for i in $$(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
	@redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 --port 6379 \
		--save "" --appendonly no --dir /tmp --logfile /tmp/masterplan-redis.log

lint: venv
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

test-py: venv ## The suite on SQLite (PostgreSQL-only tests run in test-pg)
	$(BIN)/pytest -q -m "not slow and not postgres" -p no:cacheprovider

test-pg: venv services ## The suite on PostgreSQL
	MASTERPLAN_TEST_DB=postgresql MASTERPLAN_TEST_PG_DSN=$(PG_DSN) $(BIN)/pytest -q -m "not slow" -p no:cacheprovider

test-slow: venv services ## Real local model, crash recovery and multi-process tests
	$(BIN)/pytest -q -m slow -p no:cacheprovider || [ $$? -eq 5 ]

web: ## Build the UI (web/dist), served by `masterplan serve`
	@if [ -f web/package.json ]; then cd web && npm ci --no-audit --no-fund && npm run build; fi

test-web: venv web ## UI unit tests and the end-to-end run in Debian's chromium
	@if [ -f web/package.json ]; then \
		command -v chromium >/dev/null || (apt-get update -q && apt-get install -y -q chromium); \
		(cd web && npm run typecheck && npm run lint && npm test) && scripts/e2e.sh; \
	fi

bench: venv services ## Every benchmark; prints figures and writes benchmarks/results/
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) web/node_modules web/dist .pytest_cache .mypy_cache .ruff_cache
