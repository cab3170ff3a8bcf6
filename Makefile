# The two commands: `make run` and `make test`. Only Python 3.11+ is needed;
# uv is bootstrapped into .tools/ with pip, the project environment is .venv/.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_NO_PROGRESS := 1

.PHONY: install install-run run test lint types pytest browser messages clean

# uv itself, pinned. pip installs it into .tools/ without a virtual environment (seconds
# faster than creating one with pip inside); where that pip refuses (no pip, or a system
# Python that is externally managed), a small virtual environment holds it instead.
$(UV):
	@mkdir -p $(TOOLS)/bin
	@if $(PYTHON) -m pip install --quiet --disable-pip-version-check --target $(TOOLS)/uv \
	     "uv==$(UV_VERSION)" 2>/dev/null; then \
	  ln -sf ../uv/bin/uv $(UV); \
	else \
	  $(PYTHON) -m venv $(TOOLS) && \
	  $(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"; \
	fi

# Everything: what running needs plus the development and test tools (ruff, mypy, pytest,
# Playwright, ...).
install: $(UV)
	$(UV) sync --frozen --python $(PYTHON)

# Only what running needs; --inexact keeps the development tools when they are there.
install-run: $(UV)
	$(UV) sync --frozen --no-dev --inexact --python $(PYTHON)

# Migrate, load demo data on the first run, start the web server and the task worker: one
# process does all three, so Django starts once (bench/first_run.py times it).
# Links in emails and the API point at the port it serves on, unless TREFPUNT_SITE_URL says
# otherwise.
run: export TREFPUNT_SITE_URL ?= http://$(HOST):$(PORT)
run: install-run
	$(BIN)/trefpunt serve --setup --host $(HOST) --port $(PORT)

# Debian's Chromium for the browser tests (Playwright's own download does not work here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: install
	$(BIN)/mypy trefpunt bench

# pytest on SQLite always, and on PostgreSQL too when DATABASE_URL is set. The two passes
# run side by side (each is one Python process, so two cores finish both in about the time of
# the longer one); each writes to a log that is printed whole when both are done, SQLite first.
# Fails when either pass fails. Each pass lists its 20 slowest tests, to see where CI's time goes.
pytest: install browser
	@if [ -z "$$DATABASE_URL" ]; then \
	  echo "=== pytest on SQLite ==="; \
	  env -u DATABASE_URL $(BIN)/pytest --durations=20; \
	else \
	  logs=$$(mktemp -d); \
	  echo "=== pytest on SQLite and on PostgreSQL ($${DATABASE_URL%%@*}@…), side by side ==="; \
	  env -u DATABASE_URL $(BIN)/pytest --durations=20 > $$logs/sqlite.log 2>&1 & sqlite=$$!; \
	  $(BIN)/pytest --durations=20 > $$logs/postgres.log 2>&1 & postgres=$$!; \
	  wait $$sqlite; sqlite_rc=$$?; wait $$postgres; postgres_rc=$$?; \
	  echo "=== pytest on SQLite (exit $$sqlite_rc) ==="; cat $$logs/sqlite.log; \
	  echo "=== pytest on PostgreSQL (exit $$postgres_rc) ==="; cat $$logs/postgres.log; \
	  rm -rf $$logs; \
	  [ $$sqlite_rc -eq 0 ] && [ $$postgres_rc -eq 0 ]; \
	fi

test: lint types pytest

# Extract and compile translations (needs GNU gettext; compiled .mo files are committed).
# References name files without line numbers, so unrelated changes do not touch the catalogue.
messages: install
	$(BIN)/trefpunt makemessages -l nl --add-location=file --ignore=.venv --ignore=.tools --ignore=var --ignore=bench --ignore='*/tests/*'
	$(BIN)/trefpunt compilemessages --ignore=.venv --ignore=.tools

clean:
	rm -rf $(TOOLS) $(VENV) var .mypy_cache .ruff_cache .pytest_cache
