# Everything a person runs. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HTMX := webmail/static/vendor/htmx.min.js
TRANSLATIONS := $(patsubst %.po,%.mo,$(wildcard webmail/translations/*/LC_MESSAGES/messages.po))
DEV_ENV := PLI_TLS_CA_FILE=$(CURDIR)/var/devmail/tls/ca.pem PLI_IMAP_PORT=10143 PLI_SMTP_PORT=10587
# The demo accounts open at once; each can still turn the second factor on (README).
DEV_ENV += PLI_SECOND_FACTOR=optional
# Delegation on the dev rig: its master user, and Pli's sender-login map loaded into its Postfix.
DEV_ENV += PLI_IMAP_MASTER_USER=pli-master PLI_IMAP_MASTER_PASSWORD=Pli-Master-Dev-2026 \
  PLI_SENDER_LOGIN_MAP=$(CURDIR)/var/sender_logins \
  PLI_SENDER_LOGIN_COMMAND='["$(CURDIR)/$(PY)", "-m", "devmail", "load-sender-logins", "{map}"]'

.PHONY: help run test lint bench setup system deps assets translations backend-start backend-stop db-upgrade

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "%-15s %s\n", $$1, $$2}'

run: setup backend-start db-upgrade  ## set up everything, start the dev mail backend, serve on http://127.0.0.1:8000
	$(PY) -m devmail seed-demo
	@echo "Demo sign-in: dr.martin@pli.test / demo-Pli-2026"
	$(DEV_ENV) $(VENV)/bin/gunicorn --bind 127.0.0.1:8000 --workers 2 --threads 4 wsgi:app

test: setup  ## set up everything and run the whole test suite (starts its own Dovecot/Postfix)
	$(PY) -m pytest $(PYTEST_ARGS)

lint:  ## ruff
	$(VENV)/bin/ruff check .

bench: setup  ## benchmarks under bench/ (figures printed as ratios)
	for script in reading search send; do $(PY) bench/$$script.py || exit 1; done

setup: system deps assets translations  ## install system packages, Python and npm deps, built assets

system:  ## Debian packages: Dovecot, Postfix, Chromium, Node (needs root)
	bash scripts/install-system.sh

deps: $(STAMP)
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

assets: $(HTMX)
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
$(HTMX): node_modules/.package-lock.json
	mkdir -p $(dir $@)
	cp node_modules/htmx.org/dist/htmx.min.js $@

translations: $(STAMP) $(TRANSLATIONS)
%.mo: %.po
	$(VENV)/bin/pybabel compile --use-fuzzy -i $< -o $@

backend-start: $(STAMP)  ## start the development Dovecot + Postfix (loopback, high ports)
	$(PY) -m devmail start

backend-stop:  ## stop them
	$(PY) -m devmail stop

db-upgrade: $(STAMP)  ## create or migrate the database
	mkdir -p var
	$(DEV_ENV) $(VENV)/bin/flask --app wsgi db upgrade
