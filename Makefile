# Quick start: `make demo` and `make test`; both set up first (idempotent).
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.setup-stamp

.PHONY: setup demo test clean

setup: $(STAMP)

$(STAMP): pyproject.toml tools/bootstrap.sh tools/micropython/package.json
	bash tools/bootstrap.sh
	touch $(STAMP)

demo: setup
	$(VENV)/bin/electeur demo

test: setup
	$(PY) -m pytest -q $(PYTEST_ARGS) || [ $$? = 5 ]  # 5: pytest collected no test

clean:
	rm -rf $(VENV) tools/micropython/node_modules
