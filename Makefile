# Thin wrappers over the `quant` command line (QuantSDK). `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PROFILE ?= canary
PORT ?= 3000
KEEP ?= 30

export DAGSTER_HOME := $(CURDIR)/data/dagster_home
export QUANT_DATA_ROOT ?= $(CURDIR)/data/lakehouse
export NUMBA_CACHE_DIR ?= $(CURDIR)/data/numba_cache
export RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER := 0
TEAM_DIR ?= $(CURDIR)/data/team
PG_PORT ?= 5433
TEAM_HOME := $(TEAM_DIR)/dagster_home
PG_CTL_FOUND := command -v pg_ctl >/dev/null || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1

.PHONY: help install run hydrate new-run flow-production backfill-stale prune dev team-up team-down postgresql s3-up s3-down bench-object-storage sql runs show compare settings report doctor test test-slow test-ui lint format bench bench-scale clean

help:  ## list the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml examples/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,online]' -e ./examples
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the project with its dev tools

run: install hydrate flow-production  ## install, hydrate the bundled data, run `production`, print the leaderboard

hydrate: install  ## hydrate market data (SOURCE=bundled|synthetic|files, SOURCE_PATH=folder)
	$(BIN)/quant hydrate $(if $(SOURCE),--source $(SOURCE)) $(if $(SOURCE_PATH),--path $(SOURCE_PATH))

new-run: install  ## mint and register a run_id for PROFILE; prints it
	@$(BIN)/quant new-run --profile $(PROFILE)

flow-production: install  ## run the production job for a new run_id with PROFILE (canary|production)
	$(BIN)/quant run --profile $(PROFILE)

backfill-stale: install  ## one Dagster backfill of the stale and new symbols (SOURCE=...; run by the daemon of `make dev`)
	$(BIN)/quant backfill-stale $(if $(SOURCE),--source $(SOURCE))

prune: install  ## keep only the KEEP newest runs (default 30) in the lakehouse and Dagster
	$(BIN)/quant prune --keep-last $(KEEP)

dev: install  ## start the Dagster UI on http://127.0.0.1:$(PORT)
	$(BIN)/python -c "from dagster_defs.instance import dagster_home; dagster_home()"
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p $(PORT)

postgresql:  ## install Debian's PostgreSQL (apt) unless pg_ctl is already there
	$(PG_CTL_FOUND) || { s=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
		$$s apt-get update && $$s apt-get install -y postgresql; }

# team-up starts the daemon and the webserver each in its own session with `setsid -f`, not `&`:
# a background job ignores SIGINT, which Dagster's processes stop on; each pid file holds the
# session's leader, which team-down signals with its whole group.
team-up: install postgresql  ## a team's Dagster on a local PostgreSQL: database, daemon, webserver on :$(PORT)
	mkdir -p $(TEAM_DIR)
	$(BIN)/quant team-home --home $(TEAM_HOME) --postgres-url \
		"$$($(BIN)/python -m quant_sdk.local_postgres start $(TEAM_DIR)/postgres --port $(PG_PORT))"
	DAGSTER_HOME=$(TEAM_HOME) $(BIN)/dagster instance info >/dev/null  # creates the tables once
	DAGSTER_HOME=$(TEAM_HOME) setsid -f sh -c 'echo $$$$ >$(TEAM_DIR)/daemon.pid; \
		exec $(BIN)/dagster-daemon run -w workspace.yaml >$(TEAM_DIR)/daemon.log 2>&1'
	DAGSTER_HOME=$(TEAM_HOME) setsid -f sh -c 'echo $$$$ >$(TEAM_DIR)/webserver.pid; \
		exec $(BIN)/dagster-webserver -w workspace.yaml -h 127.0.0.1 -p $(PORT) \
		>$(TEAM_DIR)/webserver.log 2>&1'
	@echo "team Dagster starting on http://127.0.0.1:$(PORT) (logs in $(TEAM_DIR)); then:"
	@echo "  export QUANT_DAGSTER_URL=http://127.0.0.1:$(PORT) DAGSTER_HOME=$(TEAM_HOME) \\"
	@echo "    QUANT_DATA_ROOT=$(QUANT_DATA_ROOT)"
	@echo "  quant run --submit; quant runs"

S3_DIR ?= $(CURDIR)/data/s3
S3_PORT ?= 5055

s3-up: install  ## a local S3-compatible server (moto, in memory) on :$(S3_PORT) with bucket `lake`; prints the exports
	@$(BIN)/python -m quant_sdk.local_s3 start $(S3_DIR) --port $(S3_PORT) --bucket lake

s3-down:  ## stop the server of `make s3-up` (its objects are lost: it keeps them in memory)
	$(BIN)/python -m quant_sdk.local_s3 stop $(S3_DIR)

team-down:  ## stop the webserver, daemon and PostgreSQL of `make team-up` (data kept)
	for name in webserver daemon; do \
		pid=$$(cat $(TEAM_DIR)/$$name.pid 2>/dev/null) || continue; \
		kill -s TERM -- -$$pid 2>/dev/null; \
		for second in $$(seq 60); do kill -s 0 -- -$$pid 2>/dev/null || break; sleep 1; done; \
		kill -s KILL -- -$$pid 2>/dev/null; rm -f $(TEAM_DIR)/$$name.pid; \
	done; true
	$(BIN)/python -m quant_sdk.local_postgres stop $(TEAM_DIR)/postgres

sql: install  ## run a DuckDB query over every asset: make sql Q="SELECT ..."
	$(BIN)/quant query "$(Q)"

runs: install  ## list every run: status, profile, when, best engine and Sharpe
	$(BIN)/quant runs

show: install  ## one run at a glance: make show RUN=<run_id> (ASSET=<name>: one stored asset)
	$(BIN)/quant show "$(RUN)" $(ASSET)

compare: install  ## two runs side by side: make compare A=<run_id> B=<run_id>
	$(BIN)/quant compare "$(A)" "$(B)"

settings: install  ## the resolved settings of PROFILE and where each value comes from
	$(BIN)/quant settings --profile $(PROFILE)

report: install  ## a run's HTML tear-sheet: make report RUN=<run_id> [OUT=file.html]
	$(BIN)/quant report "$(RUN)" $(if $(OUT),--out $(OUT))

doctor: install  ## check every stored file; REPAIR=1 moves damaged ones aside and re-hydrates
	$(BIN)/quant doctor $(if $(REPAIR),--repair)

lint: install  ## ruff (lint and format check) and mypy --strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install  ## apply ruff's formatting and safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

.PHONY: docs
docs: install  ## write docs/settings.md and docs/cli.md from the code (tests/test_docs.py fails when stale)
	$(BIN)/python scripts/generate_docs.py

test: install lint  ## lint, then the test suite (without slow and browser tests)
	$(BIN)/pytest -m "not slow and not ui"

test-slow: install  ## the slow tests (daemon, Ray, full history)
	$(BIN)/pytest -m slow

test-ui: install  ## the browser test against `dagster dev` (installs Chromium and Playwright)
	test -x /usr/bin/chromium || { s=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
		$$s apt-get update && $$s apt-get install -y chromium; }
	$(BIN)/python -m pip install -q playwright==1.65.2
	$(BIN)/pytest -m ui

bench: install  ## benchmarks against the reference libraries, printed as ratios
	$(BIN)/python benchmarks/bench_predictability.py
	$(BIN)/python benchmarks/bench_tournament.py
	$(BIN)/python benchmarks/bench_event_log.py
	$(BIN)/python benchmarks/bench_freshness.py
	$(BIN)/python benchmarks/bench_overfitting.py
	$(BIN)/python benchmarks/bench_sweep.py
	$(BIN)/python benchmarks/bench_publish_audit.py

bench-object-storage: install  ## hydration and `production` with the lakehouse on a loopback S3 server vs a local folder
	$(BIN)/python benchmarks/bench_object_storage.py

bench-scale: install  ## hydrate and run `production` on 1,000 and 5,000 synthetic symbols (ARGS="--instance postgres": on PostgreSQL)
	$(BIN)/python benchmarks/bench_scale.py $(ARGS)

clean:  ## remove the lakehouse, the Dagster home and caches (keeps .venv)
	rm -rf data .mypy_cache .ruff_cache .pytest_cache
