# Storybank: `make run` to set up and start everything, `make test` to run the suite
# (`make test-quick` without the browser and Whisper tests).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: run setup test test-database test-quick system-packages lint format lock clean-venv bench-transcribe bench-transcript-quality bench-search

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -r requirements.lock
	@touch $(STAMP)

setup: $(STAMP)
	$(BIN)/python manage.py setup_storybank

run: setup
	$(BIN)/python manage.py serve --port $(PORT)

# Chromium, espeak-ng, ffmpeg and Dovecot (a real IMAP server for the mail tests): installed when
# run as root, otherwise named.
system-packages:
	@scripts/system-packages

# The suite in two runs: tests that only need a database on TEST_WORKERS processes at once, then
# the ones that start Storybank, Chromium or Whisper themselves, on OWN_PROCESS_WORKERS (they
# spend much of their time waiting for a server to start or a killed worker to be noticed).
TEST_WORKERS ?= 2
OWN_PROCESS_WORKERS ?= 2
IN_PROCESS := not browser and not whisper and not own_sqlite
test: $(STAMP) system-packages
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "$(IN_PROCESS)" $(PYTEST_ARGS)
	$(BIN)/python -m pytest -n $(OWN_PROCESS_WORKERS) -m "browser or whisper or own_sqlite" $(PYTEST_ARGS)

# The tests that depend on the database (the PostgreSQL pass of .ci/run).
test-database: $(STAMP) system-packages
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "$(IN_PROCESS)" $(PYTEST_ARGS)

# The inner loop: everything but the Chromium and real-Whisper tests.
test-quick: $(STAMP) system-packages
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not browser and not whisper" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-resolve every dependency from the ranges in pyproject.toml and pin the result (setuptools
# too: torch needs it at run time).
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade "pip>=24"
	.lock-venv/bin/python -m pip install --quiet ".[dev]"
	( echo "# Pinned by 'make lock' from the ranges in pyproject.toml. Do not edit by hand."; \
	  .lock-venv/bin/python -m pip freeze --all --exclude storybank --exclude pip ) > requirements.lock
	rm -rf .lock-venv build *.egg-info

bench-transcribe: $(STAMP)
	$(BIN)/python bench/transcribe.py

bench-transcript-quality: $(STAMP) system-packages
	$(BIN)/python bench/transcribe.py --quality

bench-search: $(STAMP)
	$(BIN)/python bench/search.py

clean-venv:
	rm -rf $(VENV)
