# Two commands on a fresh machine: `make run` and `make test` (see README).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
Q      ?= What did the U.S. commit to higher education in Pakistan?

.PHONY: run serve test lint docs install clean

$(BIN)/rag: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# torch==2.13.0 is pinned in pyproject.toml: the CPU build, never the multi-GB CUDA one.
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(BIN)/rag

install: $(BIN)/rag

run: install  ## install, build the index of the bundled brief on first use, answer a question
	$(BIN)/rag answer "$(Q)"

serve: install  ## the HTTP API, OpenAI-compatible endpoints and chat page on :8000
	$(BIN)/rag serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint  ## lint, then every test (real model, real FAISS, real server, real browser, the docs)
	# Two processes, a test file each at a time (module fixtures stay shared): on 2 cores
	# 220 s instead of 312 s, since many server tests wait on the clock, not the CPU.
	$(BIN)/python -m pytest -n 2 --dist loadfile

docs: install  ## the docs site into build/site, strict: a broken link or anchor fails it
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir build/site

clean:
	rm -rf $(VENV) index/default index/.default.*
