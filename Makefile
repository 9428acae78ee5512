# Two commands: `make run` (everything on a laptop, no services needed) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)

.PHONY: run test venv local-files migrate demo worker web clean-var

run: local-files
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py bootstrap_dev
	scripts/run.sh

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

venv: $(STAMP)

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-* && touch $@

# var/, the SQLite folder and the development secret key: importing the settings writes nothing.
local-files: venv
	$(BIN)/python -m config.local_files

migrate: local-files
	$(BIN)/python manage.py migrate --no-input

worker: local-files
	$(BIN)/celery -A config worker --beat --loglevel=info

web: local-files
	$(BIN)/python manage.py runserver 127.0.0.1:8000

clean-var:
	rm -rf var/
