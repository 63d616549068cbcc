# The two commands the README promises: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# A second environment with every runtime dependency at the oldest version pyproject.toml allows.
OLDEST := .venv-oldest
OLDEST_STAMP := $(OLDEST)/.installed
CODE := $(wildcard src tests examples benchmarks fuzz)

.PHONY: demo test check pytest-oldest system-deps bench soak fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(OLDEST_STAMP): pyproject.toml constraints-oldest.txt
	$(PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install --quiet --upgrade pip
	$(OLDEST)/bin/python -m pip install --quiet -c constraints-oldest.txt -e '.[test]'
	touch $(OLDEST_STAMP)

## Set everything up and run the fleet inventory against the embedded simulated fleet.
demo: $(STAMP)
	$(BIN)/aiohyperv inventory --demo

## Set everything up, then format check, lint, type check and the whole test suite, run twice:
## with the newest dependencies and with the oldest ones pyproject.toml allows.
test: check pytest-oldest

## Format check, lint, type check and the test suite, in .venv only.
check: $(STAMP) system-deps
	$(BIN)/ruff format --check $(CODE)
	$(BIN)/ruff check $(CODE)
	$(BIN)/mypy $(CODE)
	$(BIN)/pytest -q

## The test suite against the dependency floors (constraints-oldest.txt).
pytest-oldest: $(OLDEST_STAMP)
	$(OLDEST)/bin/pytest -q

## System programs some tests drive (the MIT KDC and python-gssapi for Kerberos, libvirt's
## virt-xml-validate), via apt-get as root; quick when present; where they cannot be installed
## those tests skip and say why.
system-deps: $(STAMP)
	bash scripts/system-deps.sh $(BIN)/python

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
	rm -rf $(VENV) $(OLDEST) build *.egg-info src/*.egg-info
