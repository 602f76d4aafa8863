# datasre: the two commands a fresh clone needs are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: `make run` installs what running needs (the base dependencies); `make test`
# adds the dev extra (linters, type checker, pytest, scikit-learn, the Dagster UI and
# deploy packages the tests import). The second is .venv/.installed, as before.
RUN_STAMP := $(VENV)/.installed-run
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)
export DAGSTER_DISABLE_TELEMETRY := 1

.PHONY: run test lint typecheck pytest ui bench bench-evidently bench-nannyml samples clean

$(RUN_STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e .
	touch $(RUN_STAMP)

$(STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

## run: install the base dependencies, then validate both sample models over all their
## days into data/datasre.duckdb
run: $(RUN_STAMP)
	$(BIN)/datasre run --all

## test: lint, format check, type check, import direction, then pytest
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python tests/import_direction.py
	$(BIN)/python -m pytest -n 2 -q

## ui: the Dagster UI (webserver + daemon) on the sample data
UI_STAMP := $(VENV)/.installed-ui
$(UI_STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[ui]"
	touch $(UI_STAMP)

ui: $(UI_STAMP)
	$(BIN)/dagster dev -m pipelines.definitions

## bench: whole-process benchmarks (not part of test)
bench: $(STAMP)
	$(BIN)/python benchmarks/drift.py

## bench-evidently: the same plus Evidently's DataDriftPreset, from a venv of its own
## (the bench extra's packages; Evidently takes minutes at 1M rows)
BENCH_VENV := .venv-bench
bench-evidently: $(STAMP)
	test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet "evidently>=0.7" "pandas<3" "pyarrow>=15"
	$(BIN)/python benchmarks/drift.py --evidently-python $(BENCH_VENV)/bin/python

## bench-nannyml: datasre's CBPE against NannyML's on generated data, NannyML in a venv
## of its own (not a datasre dependency)
NANNYML_VENV := .venv-nannyml
bench-nannyml: $(STAMP)
	test -x $(NANNYML_VENV)/bin/python || $(PYTHON) -m venv $(NANNYML_VENV)
	$(NANNYML_VENV)/bin/python -m pip install --quiet "nannyml==0.13.1" statsmodels
	$(BIN)/python benchmarks/cbpe_nannyml.py --nannyml-python $(NANNYML_VENV)/bin/python

## samples: regenerate the bundled sample data deterministically
samples: $(STAMP)
	$(BIN)/python data/samples/generate.py

clean:
	rm -rf .dagster data/datasre.duckdb data/datasre.duckdb.wal data/datasre.state
