# Two commands for a newcomer: `make demo` and `make test`. Everything else is set up here.
# Tools and NocoDB are cached outside the repo (~/.cache/actops), keyed by version.
SHELL := /bin/bash
CACHE ?= $(HOME)/.cache/actops
BOOT := $(CACHE)/boot-uv-0.13.8
UV := $(BOOT)/bin/uv
PYTHON ?= python3.11
export UV_CACHE_DIR ?= $(CACHE)/uv-cache
export ACTOPS_CACHE := $(CACHE)
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
# A loaded 2-core machine starts Prefect's ephemeral test server in more than its default 20 s.
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120

.PHONY: demo test test-pg setup nocodb chromium postgres fonts down unit bench clean prefect-local

$(UV):
	$(PYTHON) -m venv $(BOOT) && $(BOOT)/bin/pip install -q uv==0.13.8

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

setup: .venv/.synced

nocodb: setup
	.venv/bin/python -c "from actops_dev.nocodb_install import install; install()"

demo: setup
	-@$(MAKE) --no-print-directory fonts
	.venv/bin/actops demo

# Charts in the monthly summaries draw Chinese labels with a CJK font (fonts-noto-cjk). Without
# one the summaries go out without charts (the run says so); as root with apt it is installed.
fonts:
	@if fc-list :lang=zh family 2>/dev/null | grep -q .; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then \
	  echo "Charts need a Chinese font: apt-get install -y fonts-noto-cjk"; exit 1; fi; \
	echo "Installing fonts-noto-cjk with apt (once)"; export DEBIAN_FRONTEND=noninteractive; \
	apt-get install -y -qq fonts-noto-cjk >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq fonts-noto-cjk >/dev/null 2>&1; }

# The browser tests (tests/browser) drive Debian's Chromium; Chinese needs CJK fonts. Nothing to do
# when both are there; as root with apt, install them (once, quietly); otherwise say what to install.
CHROMIUM_PKGS := chromium fonts-noto-cjk
chromium:
	@if command -v chromium >/dev/null 2>&1 && fc-list :lang=zh family 2>/dev/null | grep -q .; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then \
	  echo "The browser tests need Chromium and CJK fonts: apt-get install -y $(CHROMIUM_PKGS)"; exit 1; fi; \
	mkdir -p $(CACHE); log=$(CACHE)/apt-chromium.log; echo "Installing $(CHROMIUM_PKGS) with apt (once; log in $$log)"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get install -y -qq $(CHROMIUM_PKGS) >$$log 2>&1 \
	  || { apt-get update -qq >>$$log 2>&1 && apt-get install -y -qq $(CHROMIUM_PKGS) >>$$log 2>&1; } \
	  || { echo "apt-get install -y $(CHROMIUM_PKGS) failed; see $$log"; exit 1; }

# NocoDB on PostgreSQL (OPS-2) needs Debian's PostgreSQL server programs (initdb, pg_ctl, pg_dump);
# the tests start a private cluster of their own. Installed with apt when root, like chromium.
postgres:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then \
	  echo "The PostgreSQL tests need PostgreSQL: apt-get install -y postgresql"; exit 1; fi; \
	mkdir -p $(CACHE); log=$(CACHE)/apt-postgresql.log; echo "Installing postgresql with apt (once; log in $$log)"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get install -y -qq postgresql >$$log 2>&1 \
	  || { apt-get update -qq >>$$log 2>&1 && apt-get install -y -qq postgresql >>$$log 2>&1; } \
	  || { echo "apt-get install -y postgresql failed; see $$log"; exit 1; }

# The PG pass: these tests run a second time on NocoDB on PostgreSQL (ACTOPS_TEST_DB=pg), a few
# minutes; README ("NocoDB on PostgreSQL") says why these. Both passes run; either failing fails.
PG_TESTS := tests/integration/test_pg_backup.py \
	tests/integration/test_client_real.py \
	tests/integration/test_schema_apply.py \
	tests/integration/test_bad_input.py \
	tests/integration/test_links.py \
	tests/integration/test_manager_views.py \
	tests/integration/test_intake.py \
	tests/integration/test_approvals.py \
	tests/integration/test_escalation_changes.py \
	tests/integration/test_prefect_server.py \
	tests/integration/test_escalations.py::test_bad_rows_are_reported_on_the_row_and_the_rest_is_sent

test: nocodb chromium postgres
	@rc=0; \
	.venv/bin/python -m pytest || rc=$$?; \
	echo "== the PG pass: NocoDB on PostgreSQL (ACTOPS_TEST_DB=pg)"; \
	ACTOPS_TEST_DB=pg .venv/bin/python -m pytest $(PG_TESTS) || rc=$$?; \
	exit $$rc

test-pg: nocodb postgres
	ACTOPS_TEST_DB=pg .venv/bin/python -m pytest $(PG_TESTS)

unit: setup
	.venv/bin/python -m pytest tests/unit

bench: setup
	.venv/bin/python bench/read_write.py

# The flows on a Prefect server here: NocoDB (unless NOCODB_URL names one) and its schema, then
# `prefect server start` on :4200 (unless PREFECT_API_URL names a server), the `actops` work pool,
# `prefect deploy --all` and a process worker, until Ctrl-C. See README "Running on a Prefect server".
prefect-local: setup
	.venv/bin/actops up
	.venv/bin/actops schema apply --prefix "$${ACTOPS_BASE_PREFIX:-}"
	.venv/bin/python -m actops_dev.prefect_local

down:
	.venv/bin/actops down
