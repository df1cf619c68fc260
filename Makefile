# Two commands do all set-up on a fresh machine: `make run` and `make test`.
# Each creates .venv when it is missing and installs the project into it.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test check lint typecheck conversations pytest bench clean venv

# A .venv without pip (made where python3-venv is missing) is made again, or one line says
# what to install: a half-made .venv is never a dead end.
venv:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "fixbot needs Python 3.11 or newer (set PYTHON=...)")'
	@if ! $(BIN)/python -m pip --version >/dev/null 2>&1; then \
	  rm -rf $(VENV); \
	  $(PYTHON) -m venv $(VENV) >/dev/null 2>&1 && $(BIN)/python -m pip --version >/dev/null 2>&1 \
	  || { rm -rf $(VENV); echo "make: cannot make $(VENV) with pip in it; on Debian or Ubuntu install python3-venv (sudo apt install python3-venv), then run make again" >&2; exit 1; }; \
	fi

$(STAMP): pyproject.toml constraints.txt
	@$(MAKE) --no-print-directory venv
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m bot run --without-token play

check: $(STAMP)
	$(BIN)/python -m bot check

lint: $(STAMP)
	$(BIN)/ruff check --output-format concise .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/python -m pytest

# The content's conversation tests (conversations/*.yaml) on the real engine.
conversations: $(STAMP)
	$(BIN)/python -m bot test

test: lint typecheck conversations pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/matcher.py
	$(BIN)/python benchmarks/telegram.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
