# HybridDesk. `make run` serves the demo; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := wsgi
# Where `make run` serves, e.g. `make run PORT=5001` or `HOST=0.0.0.0` for the whole network.
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run install test test-sqlite test-postgres lint format bench bundle translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

# Compiled catalogues are built from the .po files, never committed.
CATALOGS := $(patsubst %.po,%.mo,$(wildcard app/translations/*/LC_MESSAGES/messages.po))

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

install: $(STAMP) $(CATALOGS)

# Links in emails, invites and badges follow HOST and PORT unless PUBLIC_BASE_URL is set;
# the server and its worker see the same address.
run: export PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed-demo
	@echo "Serving the demo on http://$(HOST):$(PORT)/events/human-rights-seminar"
	@echo "Links in emails, invites and badges start with $$PUBLIC_BASE_URL/"
	@echo "A mail worker runs beside it; emails appear as .eml files in $${MAIL_FILE_DIR:-instance/outbox}/"
	$(BIN)/flask worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
		$(BIN)/flask run --host $(HOST) --port $(PORT)

# The suite runs on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set.
test: install
	env -u TEST_DATABASE_URL $(BIN)/pytest $(PYTEST_ARGS)
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL =="; \
		$(BIN)/pytest $(PYTEST_ARGS); \
	else \
		echo "PostgreSQL run skipped: TEST_DATABASE_URL is not set"; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install
	$(BIN)/python -m benchmarks

# The check-in page's script in one file, from static/js/checkin/ (needs Node.js and npm).
node_modules/.package-lock.json: package-lock.json
	npm ci --no-audit --no-fund

bundle: node_modules/.package-lock.json
	node tools/bundle.mjs

translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching
	$(BIN)/pybabel compile -d app/translations

clean:
	rm -rf $(VENV) node_modules instance *.egg-info .pytest_cache .ruff_cache
