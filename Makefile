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

.PHONY: demo test setup nocodb down unit bench clean

$(UV):
	$(PYTHON) -m venv $(BOOT) && $(BOOT)/bin/pip install -q uv==0.13.8

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

setup: .venv/.synced

nocodb: setup
	.venv/bin/python -c "from actops_dev.nocodb_install import install; install()"

demo: setup
	.venv/bin/actops demo

test: nocodb
	.venv/bin/python -m pytest

unit: setup
	.venv/bin/python -m pytest tests/unit

bench: setup
	.venv/bin/python bench/read_write.py

down:
	.venv/bin/actops down
