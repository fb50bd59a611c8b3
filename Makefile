# Vault: `make run` (demo on SQLite + filesystem broker, or PostgreSQL/Redis via DATABASE_URL and
# CELERY_BROKER_URL) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export DJANGO_SETTINGS_MODULE ?= config.settings.local

.PHONY: run test lint format venv dev lock migrate seed clean bench

# Runtime packages for `make run`; test and development tools on top for `make test`. Both files
# are compiled with hashes (`make lock`), so pip installs exactly the pinned, verified set.
$(VENV)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes \
	    -r requirements.txt -r requirements-dev.txt
	touch $@

venv: $(VENV)/.runtime

dev: $(VENV)/.dev

# Re-pin after editing requirements*.in (`make lock LOCK_ARGS=--upgrade` takes the newest allowed).
lock: $(VENV)/.dev
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras $(LOCK_ARGS) \
	    -o requirements.txt requirements.in
	$(BIN)/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras $(LOCK_ARGS) \
	    -o requirements-dev.txt requirements-dev.in

# With MIGRATE_DATABASE_URL set (PostgreSQL: the owner role), migrate connects as the owner and
# then grants DATABASE_URL's role what the application needs (docs/security.md).
migrate: venv
	$(BIN)/python manage.py migrate --noinput -v0

seed: migrate
	LOG_LEVEL=$${LOG_LEVEL:-WARNING} $(BIN)/python manage.py seed_demo

# The web server, a Celery worker, beat and the banner under honcho (Procfile.dev): Ctrl-C stops
# them all (SIGTERM to each process group, SIGKILL after 5 s). They never see the owner's URL.
run: seed
	$(BIN)/python manage.py collectstatic --noinput -v0
	PYTHONUNBUFFERED=1 PATH="$(abspath $(BIN)):$$PATH" VAULT_WEB_PORT=$(PORT) VAULT_BACKGROUND_LOG_LEVEL=$${VAULT_BACKGROUND_LOG_LEVEL:-WARNING} \
	    exec env -u MIGRATE_DATABASE_URL $(BIN)/honcho start --no-colour -f Procfile.dev -d . -p $(PORT)

test: $(VENV)/.dev
	$(BIN)/python manage.py makemigrations --check --dry-run -v1
	$(BIN)/pytest --ds=config.settings.test -n 2 --dist loadfile -p no:randomly $(PYTEST_ARGS)

# The date-sensitive tests again on awkward days (tests/clock.py): a month's last day, 29 February
# and 31 December.
TEST_DATES ?= 2027-01-31 2028-02-29 2026-12-31
DATE_TESTS := tests/coverage tests/drawdowns tests/financing
.PHONY: test-dates
test-dates: $(VENV)/.dev
	set -e; for day in $(TEST_DATES); do \
	    echo "== VAULT_TEST_TODAY=$$day"; \
	    VAULT_TEST_TODAY=$$day $(BIN)/pytest --ds=config.settings.test -n 2 --dist loadfile -p no:randomly \
	        $(PYTEST_ARGS) $(DATE_TESTS); \
	done

# ruff, and mypy with the django and DRF plugins over vault/ and config/ (pyproject.toml).
lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.dev
	$(BIN)/python bench/holdings.py

clean:
	rm -rf var db.sqlite3 db.sqlite3-wal db.sqlite3-shm
