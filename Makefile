# Vault: `make run` (demo on SQLite + filesystem broker, or PostgreSQL/Redis via DATABASE_URL and
# CELERY_BROKER_URL) and `make test` (the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export DJANGO_SETTINGS_MODULE ?= config.settings.local

.PHONY: run test lint format venv migrate seed worker clean bench

$(BIN)/activate: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $(BIN)/activate

venv: $(BIN)/activate

migrate: venv
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	$(BIN)/python manage.py collectstatic --noinput -v0
	@echo "Vault on http://127.0.0.1:$(PORT)/admin/  API on http://127.0.0.1:$(PORT)/api/docs/"
	@trap 'kill 0' INT TERM EXIT; \
	$(BIN)/celery -A config worker --beat --loglevel=INFO --concurrency=2 \
	    --schedule=var/celerybeat-schedule & \
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT) --noreload & \
	wait

test: venv
	$(BIN)/python manage.py makemigrations --check --dry-run -v1
	$(BIN)/pytest --ds=config.settings.test -n 2 --dist loadfile -p no:randomly $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: venv
	$(BIN)/python bench/holdings.py

clean:
	rm -rf var db.sqlite3 db.sqlite3-wal db.sqlite3-shm
