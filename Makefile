# The commands README.md documents. `make test` is what CI runs.
PY ?= .venv/bin/python

.PHONY: install demo test unit integration e2e browser lint bench openapi

install:
	test -d .venv || python3 -m venv .venv
	.venv/bin/pip install -q -e '.[dev]'

demo: install
	.venv/bin/cobro demo

test: install
	$(PY) -m pytest -q

unit:
	$(PY) -m pytest -q -m unit

integration:
	$(PY) -m pytest -q -m integration

e2e:
	$(PY) -m pytest -q -m "e2e or browser"

lint:
	.venv/bin/ruff check .
	.venv/bin/mypy
	.venv/bin/lint-imports

openapi:
	$(PY) -m services.cli openapi > contracts/openapi.json
