# The two commands of the quick start are `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev

.PHONY: run demo test bench faults content-check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_RUN): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(STAMP_DEV): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@ $(STAMP_RUN)

run: $(STAMP_RUN)  ## start the bot (console channel when no platform token is set)
	$(BIN)/studybot run $(ARGS)

demo: $(STAMP_RUN)  ## the console at 600x (a day in 2.4 minutes) on studybot-demo.db
	$(BIN)/studybot run --console --clock-speed 600 $(ARGS)

test: $(STAMP_DEV)  ## lint, format check, mypy strict, the whole pytest suite
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy bot
	$(BIN)/pytest -q

bench: $(STAMP_DEV)  ## benchmarks (never part of make test; ARGS=--json for JSON lines)
	$(BIN)/python bench/engine.py $(ARGS)
	$(BIN)/python bench/fanout.py $(ARGS)
	$(BIN)/python bench/acks.py $(ARGS)
	$(BIN)/python bench/learning.py $(ARGS)
	$(BIN)/python bench/decks.py $(ARGS)

faults: $(STAMP_DEV)  ## crash safety: 1,000 SIGKILLs and platform faults, then the invariants
	$(BIN)/python bench/faults.py --kills 1000 $(ARGS)

content-check: $(STAMP_RUN)
	$(BIN)/studybot content check

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
