# Two commands: `make run` (fresh machine → running app with demo data) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install install-dev migrate demo worker beat lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# One stamp per requirements file: `make run` installs what the app needs, `make test` adds the test tools.
$(VENV)/.installed-runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed-runtime
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed-runtime

install-dev: $(VENV)/.installed-dev

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo

run: demo
	@echo ""
	@echo "  Sampark is starting at http://$(HOST):$(PORT)/"
	@echo "  Log in as admin / sampark-demo (agents: rahul, ananya, vikram, fatima; supervisor: priya — same password)"
	@echo "  Play the customer at http://$(HOST):$(PORT)/sandbox/"
	@echo ""
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install-dev
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# Production shape: with REDIS_URL set, run workers next to daphne. Workers run at a lower CPU
# priority (nice 10): where they share cores with daphne, answering a webhook comes before applying
# it (the event is stored; it waits in the database). Override with WORKER_NICE=0.
WORKER_NICE ?= 10
worker: install
	CONN_MAX_AGE=$${CONN_MAX_AGE:-300} nice -n $(WORKER_NICE) $(BIN)/celery -A config worker --loglevel=info --concurrency=4

beat: install
	$(BIN)/celery -A config beat --loglevel=info

# The whole production shape locally: nginx front door on SERVE_PORT (8080), gunicorn, daphne, Celery
# worker and beat, on PostgreSQL and Redis (DATABASE_URL / REDIS_URL, default the local ones); migrates
# and collects static files first, Ctrl-C stops it all. SERVE_ARGS=--demo loads the demo data. docs/serving.md
.PHONY: serve
serve: install
	$(BIN)/python deploy/serve.py $(SERVE_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .test-media
