# Two entry points for a fresh clone: `make app` and `make test`.
# Each creates .venv and installs the project first (skipped when up to date).
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: setup browser app test eval local-llm test-local-llm

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

# Debian's Chromium and a CJK font, for the real-browser test.
browser:
	@command -v chromium >/dev/null && fc-list | grep -qi wqy || \
	  ($(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium fonts-wqy-microhei)

app: setup
	$(BIN)/rag ingest
	$(BIN)/streamlit run app.py

test: setup browser
	$(BIN)/python -m pytest -q
	$(BIN)/rag eval --baseline

eval: setup
	$(BIN)/rag eval --baseline

# The optional embedded LLM (issue: local model): compile llama-cpp-python, fetch and verify the GGUF.
local-llm: setup
	$(BIN)/python -m pip install -q -e '.[test,local]'
	$(BIN)/rag model fetch qwen2.5-1.5b

# End-to-end test of the real local model (slow: compiles llama.cpp on first run).
# RAG_TEST_REQUIRE_LOCAL_LLM=1: a missing library or model file fails the real-model test instead of skipping it.
test-local-llm: local-llm
	RAG_TEST_REQUIRE_LOCAL_LLM=1 $(BIN)/python -m pytest -q --durations=5 tests/test_llamacpp.py
