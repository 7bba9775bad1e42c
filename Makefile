# The two commands a fresh machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-dev
# Every version pinned: a fresh clone installs what CI tested (`make lock` refreshes it).
CONSTRAINTS := constraints.txt

.PHONY: install run test lint typecheck bench lock clean

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## run: load the bundled lists, AIS, flights and the founding report into ./watchkeeper.duckdb
run: install
	$(BIN)/watchkeeper run

## test: lint, type-check, the whole test suite, then every test module that reads
## ../shared/data again with it hidden, as on a fresh clone (where it must pass too)
test: install lint typecheck
	$(BIN)/python -m pytest
	WATCHKEEPER_SHARED_DIR=$(CURDIR)/.no-shared-here $(BIN)/python -m pytest -p no:cacheprovider --shared-readers-only

lint: install
	$(BIN)/ruff check src tests benchmarks

typecheck: install
	$(BIN)/mypy

## bench: every benchmark, with its peer; results in BENCHMARKS.md
bench: install
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) -e '.[dev,bench]'
	for b in benchmarks/*.py; do case $$b in */_*) continue;; esac; $(BIN)/python $$b || exit 1; done

## lock: resolve pyproject.toml's ranges again (dev and bench extras) in a throwaway venv
## and pin the result in constraints.txt; needs the package index
lock:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(PYTHON) -m venv "$$tmp/venv"; \
	"$$tmp/venv/bin/python" -m pip install -q --upgrade pip; \
	"$$tmp/venv/bin/python" -m pip install -q -e '.[dev,bench]'; \
	{ sed -n '/^#/!q;p' $(CONSTRAINTS); \
	  "$$tmp/venv/bin/python" -m pip freeze --exclude-editable | sort -f; } > "$$tmp/constraints.txt"; \
	mv "$$tmp/constraints.txt" $(CONSTRAINTS); \
	echo "$(CONSTRAINTS): $$(grep -c '==' $(CONSTRAINTS)) pins"

clean:
	rm -rf $(VENV) watchkeeper.duckdb watchkeeper.duckdb.wal .pytest_cache .mypy_cache .ruff_cache
