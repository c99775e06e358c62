# The few targets a newcomer needs. `make up` runs the platform, `make test` proves it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install up test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml package.json
	$(PYTHON) -c 'import sys; sys.exit("Croupier needs Python 3.11+") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@if command -v npm >/dev/null 2>&1; then npm install --no-audit --no-fund --silent; \
	else echo "Node/npm not found: skipping Anvil (the local Ethereum chain)"; fi
	touch $(STAMP)

up: install
	$(BIN)/croupier up

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

bench: install
	$(BIN)/python -m bench.ledger
	$(BIN)/python -m bench.rtp
	$(BIN)/python -m bench.chain_scan
	$(BIN)/python -m bench.bets

clean:
	rm -rf $(VENV) .croupier node_modules
