# VIG Kit — `make` alone lists the targets.
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
SHELL_SCRIPTS := $(wildcard scripts/*.sh systemd/*.sh) .ci/run
PY_DIRS := $(wildcard device web tests bench scripts)

.PHONY: help setup lock test lint typecheck unit demo bench pi-smoke clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: ## install Debian packages (as root) and the .venv
	scripts/bootstrap.sh

lock: ## refresh uv.lock after editing pyproject.toml's dependencies (ARGS=--upgrade: newest), then sync .venv
	scripts/bootstrap.sh --lock $(ARGS)

test: setup ## everything CI runs: lint, types, then the whole test suite
	$(MAKE) lint typecheck unit

lint: ## ruff (lint and format), import contracts, shellcheck, systemd-analyze verify + security exposure
	$(VENV)/bin/ruff check $(PY_DIRS)
	$(VENV)/bin/ruff format --check $(PY_DIRS)
	$(VENV)/bin/lint-imports
	shellcheck $(SHELL_SCRIPTS)
	systemd/verify.sh

typecheck: ## mypy --strict over device/ and web/
	$(VENV)/bin/mypy

unit: ## the pytest suite (warnings are errors)
	$(PY) -m pytest

demo: setup ## the whole kit here with a synthetic camera and microphone
	$(VENV)/bin/vigkit demo

bench: setup ## benchmarks; figures go to docs/performance.md
	$(PY) -m bench

pi-smoke: ## (root; not in CI, ~30 min first time) install.sh and a 5 s recording in an emulated Debian 13 arm64 root
	scripts/pi-smoke.sh

clean: ## remove the venv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
