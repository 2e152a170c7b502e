# momlab: `make lab` to take the course, `make test` to check it. Needs Python 3.11+ (python3).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
LABS   := $(notdir $(wildcard solutions/*))
# nbgrader runs some tools (alembic) by name: the venv must come first on PATH.
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: lab test test-fast test-browser release bench lint clean progress bytecode

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "momlab needs Python 3.11 or newer; run: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e .
	@# Learners get nbgrader's student tools (Validate, assignment list), not the instructor's.
	$(BIN)/jupyter labextension disable @jupyter/nbgrader:formgrader @jupyter/nbgrader:create-assignment >/dev/null
	@touch $(STAMP)

# The test tools (pytest, Playwright, ruff, JupyterHub, ...) on top: for make test, bench and lint, not for learners.
$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[test]'
	@touch $(TEST_STAMP)

bytecode: $(STAMP)
	@# Compile momlab once, ahead of time: where PYTHONDONTWRITEBYTECODE is set (many container images),
	@# every kernel would otherwise compile the package again on import (~0.1 s each). Up to date: under 0.1 s.
	@$(BIN)/python -m compileall -q src

# JupyterLab opens on lab 01. jupyter-config/ holds the course's JupyterLab defaults (no Jupyter news toast):
# it is added to Jupyter's config path for this run only, so the learner's own settings in their home still win.
FIRST_LAB := 01-mom-api/01-mom-api.ipynb
LAB_CONFIG := $(abspath jupyter-config)$(if $(JUPYTER_CONFIG_PATH),:$(JUPYTER_CONFIG_PATH))

lab: bytecode
	JUPYTER_CONFIG_PATH=$(LAB_CONFIG) $(BIN)/jupyter lab --notebook-dir=notebooks --LabApp.default_url=/lab/tree/$(FIRST_LAB) \
		$(if $(filter 0,$(shell id -u)),--allow-root)

progress: bytecode
	@# Which exercises of notebooks/ pass, per lab and objective (runs copies; nothing is sent anywhere)
	$(BIN)/momlab progress

test: bytecode $(TEST_STAMP)
	@# Everything, the browser tests included (they need Chromium: apt-get install chromium; without it they skip).
	$(BIN)/python -m pytest

test-fast: bytecode $(TEST_STAMP)
	@# The quick loop: everything but the tests marked slow (notebooks, nbgrader, sandboxes, browsers, load, ...).
	$(BIN)/python -m pytest -m "not slow"

test-browser: bytecode $(TEST_STAMP)
	@# Only the browser tests: JupyterLab and the journal page in Debian's Chromium.
	$(BIN)/python -m pytest -n 0 tests/test_browser.py

release: $(STAMP)
	@# Regenerate the student notebooks from the instructor source; never edit notebooks/ by hand.
	@for lab in $(LABS); do $(BIN)/nbgrader generate_assignment "$$lab" --force --log-level=WARN || exit 1; done
	@find notebooks -name '*.sqlite*' -delete

bench: bytecode $(TEST_STAMP)
	@# Every benchmark, each in its own process: order create with wrk on 1 and 8 connections against a bare endpoint,
	@# order life, start-up, inventory delta, load, crash, fuzz and course time; one table at the end.
	@# BENCH_ARGS=--quick for a brief smoke run of the same benches.
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests bench tools

clean:
	rm -rf $(VENV) gradebook.db submitted autograded feedback feedback-withheld .pytest_cache
	find src tests bench -name __pycache__ -prune -exec rm -rf {} +
