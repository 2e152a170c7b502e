# momlab: `make lab` to take the course, `make test` to check it. Needs Python 3.11+ (python3).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LABS   := $(notdir $(wildcard solutions/*))
# nbgrader runs some tools (alembic) by name: the venv must come first on PATH.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: lab test test-browser release bench lint clean

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "momlab needs Python 3.11 or newer; run: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[test]'
	@# Learners get nbgrader's student tools (Validate, assignment list), not the instructor's.
	$(BIN)/jupyter labextension disable @jupyter/nbgrader:formgrader @jupyter/nbgrader:create-assignment >/dev/null
	@touch $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

test: $(STAMP)
	$(BIN)/python -m pytest

test-browser: $(STAMP)
	@# JupyterLab and the journal page in Debian's Chromium (apt-get install chromium)
	MOMLAB_BROWSER_TESTS=1 $(BIN)/python -m pytest tests/test_browser.py

release: $(STAMP)
	@# Regenerate the student notebooks from the instructor source; never edit notebooks/ by hand.
	@for lab in $(LABS); do $(BIN)/nbgrader generate_assignment "$$lab" --force --log-level=WARN || exit 1; done
	@find notebooks -name '*.sqlite*' -delete

bench: $(STAMP)
	$(BIN)/python bench/mock_rate.py
	$(BIN)/python bench/lifecycle.py

lint: $(STAMP)
	$(BIN)/ruff check src tests bench tools

clean:
	rm -rf $(VENV) gradebook.db submitted autograded feedback .pytest_cache
