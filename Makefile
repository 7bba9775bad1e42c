# The two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev

.PHONY: install run test lint typecheck bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## run: load the bundled lists, AIS, flights and the founding report into ./watchkeeper.duckdb
run: install
	$(BIN)/watchkeeper run

## test: lint, type-check and the whole test suite
test: install lint typecheck
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check src tests benchmarks

typecheck: install
	$(BIN)/mypy

## bench: every benchmark, with its peer; results in BENCHMARKS.md
bench: install
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	for b in benchmarks/*.py; do case $$b in */_*) continue;; esac; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) watchkeeper.duckdb watchkeeper.duckdb.wal .pytest_cache .mypy_cache .ruff_cache
