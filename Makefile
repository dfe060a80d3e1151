# Quick start: `make demo` and `make test`; both set up first (idempotent).
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.setup-stamp

.PHONY: setup demo test lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml setup.py tools/bootstrap.sh tools/micropython/package.json
	bash tools/bootstrap.sh
	touch $(STAMP)

demo: setup
	$(VENV)/bin/electeur demo

test: setup lint
	$(PY) -m pytest -q $(PYTEST_ARGS) || [ $$? = 5 ]  # 5: pytest collected no test

lint: setup  # ruff and mypy as configured in pyproject.toml; `make test` stops here when they find something
	$(VENV)/bin/ruff check host_bridge firmware tests tools
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) tools/micropython/node_modules
