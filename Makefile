# The two commands the README promises: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CODE := $(wildcard src tests examples benchmarks fuzz)

.PHONY: demo test check lint typecheck pytest bench soak fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## Set everything up and run the fleet inventory against the embedded simulated fleet.
demo: $(STAMP)
	$(BIN)/aiohyperv inventory --demo

## Set everything up, then format check, lint, type check and the whole test suite.
test: $(STAMP)
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/ruff check $(CODE)
	$(BIN)/mypy $(CODE)
	$(BIN)/pytest -q

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

## Timed fuzzing of the response and CIM-XML parsers (atheris when installed, else a pure-Python mutator).
fuzz: $(STAMP)
	$(BIN)/python fuzz/fuzz_response.py -max_total_time=60
	$(BIN)/python fuzz/fuzz_cimxml.py -max_total_time=60

## A bounded soak (3 minutes, loopback only) against the simulator with faults injected.
soak: $(STAMP)
	$(BIN)/python benchmarks/soak.py

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
