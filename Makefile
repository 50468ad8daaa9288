# regwatch: every target works from a clean clone (Python 3.11 and the package registries needed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV := $(BIN)/uv

.PHONY: install system-deps demo test lint format bench lock clean

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(UV) pip sync --python $(BIN)/python --require-hashes requirements.lock
	$(UV) pip install --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

# Debian's Chromium for the browser tests (Playwright drives it; its own browser download
# cannot be used here). Needs root or sudo; without it those tests skip locally.
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

demo: install
	$(BIN)/regwatch demo --out var/demo

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check regwatch crawlers nlp indexer digests tests
	$(BIN)/ruff format --check regwatch crawlers nlp indexer digests tests

format: install
	$(BIN)/ruff format regwatch crawlers nlp indexer digests tests
	$(BIN)/ruff check --fix regwatch crawlers nlp indexer digests tests

lock: install
	$(UV) pip compile --generate-hashes --python-version 3.11 requirements.in -o requirements.lock

clean:
	rm -rf $(VENV) var build *.egg-info
