# vizgrad: the two commands a fresh machine needs.
#   make run   - create .venv, install vizgrad, start the app (streamlit run app.py)
#   make test  - create .venv with the dev extra, run the whole test suite
#                The Code page's sandbox tests need bubblewrap (`apt-get install bubblewrap`;
#                skipped without it); the browser tests need Chromium (`apt-get install chromium`);
#                the deploy tests need nginx (`apt-get install nginx`); a server runs on jemalloc
#                where it is installed (`apt-get install libjemalloc2`). .ci/run installs all four.
#   make deploy R=2 - R replicas behind nginx on loopback (deploy/serve.py; needs Debian's nginx)
#   Set VIZGRAD_HOSTED=1 for `make run` on a public server: the Code page then refuses to run
#   code without bubblewrap (README: "The Code page: untrusted code in a sandbox").
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PORT   ?= 8501
# small matrices, shared cores: single-threaded BLAS is faster and steadier (see app.py)
export OPENBLAS_NUM_THREADS ?= 1
# two malloc arenas: Streamlit runs each session in a thread, and glibc's default of up to 8 arenas
# per core keeps freed arrays spread over many heaps after the sessions are gone (bench/hostile.py:
# +60 MB kept with the default, +14 MB with 2). Read at process start only, so it is set here.
export MALLOC_ARENA_MAX ?= 2

.PHONY: run test install install-dev bench deploy clean

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

# a server's process role: its allocator (jemalloc when libjemalloc2 is installed; deploy/serve.py
# SERVER_ENV says why and what it measured), read when the interpreter starts, so set here
run: install
	env $$($(PY) deploy/serve.py --print-env) $(PY) -m streamlit run app.py --server.port $(PORT)

test: install-dev
	$(PY) -m pytest

deploy: install
	$(PY) deploy/serve.py --replicas $(or $(R),2) --port $(or $(DEPLOY_PORT),8500)

bench: install
	$(PY) bench/engine.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
