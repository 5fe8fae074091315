# The two quick-start commands (see README.md). Each sets up .venv on first use.
#   make demo   the instructor's whole cycle on the bundled sample class
#   make test   the test suite (without the end-to-end grading runs: make test-slow, CI runs both)
PYTHON ?= python3
VENV ?= .venv
# two test processes: the suite's grading batches run their own workers too
PYTEST_ARGS ?= -n 2 --dist loadfile
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-slow lab bench lint release

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

demo: setup
	$(PY) -m autograder demo --out out/demo

test: setup
	$(PY) -m pytest $(PYTEST_ARGS) -m "not slow"

# the tests marked slow: whole classes and attack banks graded through the CLI, learning runs
test-slow: setup
	$(PY) -m pytest $(PYTEST_ARGS) -m slow

# the student's lab: nbgrader's course and assignment lists, formgrader and create-assignment are
# off (jupyter/student/), since a student's machine has no course and no exchange. As root
# (a container, a cloud notebook) Jupyter refuses to start without --allow-root, so it is added;
# LAB_ARGS passes more flags, e.g. `make lab LAB_ARGS="--port 8890 --no-browser"`.
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root)
LAB_ARGS ?=
lab: setup
	JUPYTER_CONFIG_PATH="$(CURDIR)/jupyter/student" $(VENV)/bin/jupyter lab $(ROOT_ARGS) $(LAB_ARGS) notebooks/

release: setup
	$(PY) -m autograder release

bench: setup
	$(PY) benchmarks/bench_value_iteration.py
	$(PY) benchmarks/bench_grading.py
	$(PY) benchmarks/bench_similarity.py

lint: setup
	$(VENV)/bin/ruff check rlkit autograder tests benchmarks
