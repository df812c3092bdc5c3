# Two commands set up a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.requirements-installed
PORT   ?= 8501
ADDRESS ?= 127.0.0.1
# Host names (besides localhost, 127.0.0.1 and ADDRESS) that the browser may use for
# the app, space-separated; any other Host header is refused (DNS rebinding).
HOSTS ?=

.PHONY: run test data bench lint

$(STAMP): requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

# Get ml-latest-small from GroupLens unless a dataset is already found. Offline, the
# app still starts and offers to upload the MovieLens zip.
data: $(STAMP)
	@$(PY) -m recsys download --if-missing || echo "Starting without data: the app will offer an upload."

# One BLAS thread per request: small products on a busy 2-core machine run several
# times slower when two BLAS threads fight the other sessions for the cores.
run: data
	OPENBLAS_NUM_THREADS=$${OPENBLAS_NUM_THREADS:-1} \
	$(PY) -m recsys.dashboard.ui.serve --server.address $(ADDRESS) --server.port $(PORT) \
	  $(foreach host,localhost 127.0.0.1 $(ADDRESS) $(HOSTS),--server.allowedHosts $(host))

# Tests that need the real dataset read RECSYS_DATA (else data/ml-latest-small if there).
test: $(STAMP)
	RECSYS_DATA="$${RECSYS_DATA:-$(CURDIR)/data/ml-latest-small}" $(PY) -m pytest

bench: $(STAMP)
	$(PY) -m bench

lint: $(STAMP)
	$(PY) -m ruff check . && $(PY) -m ruff format --check .
