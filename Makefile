# Two entry points, both starting from a fresh machine:
#   make demo   -> local .venv, CPU torch first, the package, then `glassnet demo`
#   make test   -> same environment plus dev extras, then the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
TORCH  ?= torch==2.13.0

$(BIN)/glassnet: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e ".[dev,cluster]"
	touch $@

.PHONY: demo test test-slow lint clean
demo: $(BIN)/glassnet
	$(BIN)/glassnet demo --out demo-output

test: $(BIN)/glassnet
	$(BIN)/python -m pytest -q -n 2

test-slow: $(BIN)/glassnet
	$(BIN)/python -m pytest -q -m slow

lint: $(BIN)/glassnet
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) demo-output .pytest_cache
