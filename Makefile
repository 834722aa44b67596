# vizgrad: the two commands a fresh machine needs.
#   make run   - create .venv, install vizgrad, start the app (streamlit run app.py)
#   make test  - create .venv with the dev extra, run the whole test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
# small matrices, shared cores: single-threaded BLAS is faster and steadier (see app.py)
export OPENBLAS_NUM_THREADS ?= 1

.PHONY: run test install install-dev bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install -q -e ".[dev]"
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: install
	$(PY) -m streamlit run app.py --server.port $(PORT)

test: install-dev
	$(PY) -m pytest

bench: install
	$(PY) bench/engine.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
