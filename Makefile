# LandPay: `make run` starts everything on loopback; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export LANDPAY_ENV ?= development
export FLASK_APP := app

.PHONY: run test test-fast bench bench-scale soak mutation install migrate seed lint translations clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) translations

translations: $(STAMP)
	$(BIN)/pybabel -q compile -d app/translations

migrate: install
	mkdir -p instance
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask seed-demo

run: seed
	$(BIN)/python scripts/run_local.py

test: install
	$(BIN)/python scripts/ensure_chromium.py
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

test-fast: install
	$(BIN)/python -m pytest -q -m "not browser and not e2e"

bench: install
	$(BIN)/python bench/bench_tax_calc.py
	$(BIN)/python bench/bench_annual_batch.py
	$(BIN)/python bench/bench_portal_delivery.py --dossiers 10000 --workers 2 --live 1000 --rate 100
	$(BIN)/python bench/bench_statements.py
	$(BIN)/python bench/bench_http.py

# List pages at 10,000 and at 10,000,000 dossiers (PostgreSQL, generated with COPY; long).
bench-scale: install
	$(BIN)/python bench/bench_scale.py

# Crash trials: kill -9 the web process while payments are in flight, then check the books.
soak: install
	$(BIN)/python scripts/soak.py

# Mutation testing of tax_calc (long: run it on its own). Survivors: .venv/bin/mutmut results
mutation: install
	$(BIN)/mutmut run --max-children 2

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) instance .pytest_cache mutants
