# The two commands a newcomer runs: `make demo` and `make test`. Each builds .venv when needed.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: venv test lint typecheck unit demo docs bench compat dist live mutation clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

unit: $(STAMP)
	$(VENV)/bin/pytest -q

test: lint typecheck unit

demo: $(STAMP)
	$(PY) scripts/demo.py

# The documentation site, from scratch, offline, every warning an error (docs/_build/html/index.html).
DOCS_STAMP := $(VENV)/.docs-stamp
$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,docs]'
	@touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	rm -rf docs/_build docs/_generated
	$(VENV)/bin/sphinx-build -W --keep-going -n -q -b html -d docs/_build/doctrees docs docs/_build/html

bench: $(STAMP)
	$(PY) benchmarks/run.py

# The release artifacts, checked as PyPI will check them.
dist: $(STAMP)
	rm -rf dist
	$(PY) -m build --outdir dist
	$(PY) -m twine check --strict dist/*

# The example DAGs on real Airflow services (api-server, scheduler, dag-processor, triggerer);
# UI=1 also looks at the approval page and the connection form in headless Chromium (screenshots
# in ui-screenshots/; chromium and Playwright are installed on first use); EXECUTOR=celery runs the
# tasks on two Celery workers; DB=postgres keeps the metadata database in a throwaway PostgreSQL
# cluster instead of SQLite (postgresql and its drivers are installed on first use).
live: $(STAMP)
	UI=$(UI) EXECUTOR=$(EXECUTOR) DB=$(DB) $(PY) scripts/live.py

# Mutation testing of the core and the API layer (scripts/mutation.py; 45 to 65 minutes on 2 cores, not in CI).
mutation: $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,mutation]'
	$(PY) scripts/mutation.py

# The suite on each supported Airflow release, in .venv-compat/ (ROWS="floor newest" for some);
# DB=postgres runs its live part on PostgreSQL.
compat:
	DB=$(DB) bash scripts/compat.sh $(ROWS)

clean:
	rm -rf $(VENV) .venv-compat mutants docs/_build docs/_generated .mypy_cache .ruff_cache .pytest_cache *.egg-info
