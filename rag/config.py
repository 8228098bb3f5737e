"""Settings: one pydantic-settings class, read from the environment and ``.env``.

Variables are prefixed ``RAG_`` except the ones other tools already name
(``OPENAI_API_KEY``, ``OPENAI_BASE_URL``, ``CHROMA_*``). ``load_settings`` is
the one loader: every command (``rag …``, ``python -m rag.evaluation.…``) and
every app page (through ``ui.resources.settings``) calls it, and a bad value
becomes one ``SettingsError`` line naming the variable and the fix. Nothing
below ``rag.factory`` reads the environment: the factory hands each part plain
values (``Settings.model_options``, the embedder's options). What it leaves
out: turning settings into objects (``rag.factory``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from rag.store.embeddings import DEFAULT_EMBEDDING_MODEL
from rag.errors import ConfigError

PROJECT_DIR = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", env_file=".env", extra="ignore", env_ignore_empty=True)

    chat_model: str = Field(
        "auto",
        description="Answerer: 'auto' (the embedded local model when `rag model fetch qwen2.5-1.5b` has put it "
        "in RAG_MODELS_DIR, else extractive), 'extractive' (offline, no LLM), 'local:/path/model.gguf' "
        "(any GGUF in the embedded llama.cpp server), any init_chat_model string such as "
        "'openai:gpt-4o-mini', or a bare model name served at OPENAI_BASE_URL.",
    )
    embedding_model: str = Field(DEFAULT_EMBEDDING_MODEL, description="Embedder as provider:model.")
    judge_model: str | None = Field(None, description="Optional LLM judge for evals, as provider:model.")
    seeds_dir: Path = Field(PROJECT_DIR / "seeds", description="Directory of articles ingested by default.")
    persist_dir: Path = Field(PROJECT_DIR / ".rag" / "chroma", description="Local Chroma store directory.")
    eval_runs_dir: Path = Field(PROJECT_DIR / "evals" / "runs", description="Where `rag eval` writes its reports.")
    k: int = Field(5, ge=1, le=50, description="Passages retrieved per question.")
    candidates: int = Field(30, ge=5, le=500, description="Candidates per ranking before fusion.")
    chunk_tokens: int = Field(200, ge=32, le=2000, description="Chunk budget in cl100k tokens.")
    overlap_tokens: int = Field(40, ge=0, le=500, description="Tokens of trailing sentences repeated in the next chunk.")
    min_relevance_en: float = Field(
        0.18,
        description="Refuse English questions whose best mean-centred evidence cosine is below this "
        "(chosen on the dev split: the fewest errors, in the middle of the tied range; "
        "python -m rag.evaluation.calibration).",
    )
    min_relevance_zh: float = Field(0.29, description="The same threshold for Chinese questions.")
    min_relevance_unnamed_en: float = Field(
        0.30,
        description="The same threshold for an English question that names no one and nothing (chosen on the dev "
        "split among such questions, after the language thresholds).",
    )
    min_relevance_unnamed_zh: float = Field(
        0.10, description="The same for a Chinese question (on dev the Chinese threshold already refuses every such "
        "unanswerable question, so this adds nothing).")
    signals: str = Field(
        "sentence,keyword", pattern=r"^(dense|sentence|keyword|centred)(,(dense|sentence|keyword|centred))*$",
        description="Rankings fused by retrieval, comma-separated: dense (chunk vectors), sentence (sentence "
        "vectors, HNSW), keyword (BM25), centred (exact search on mean-centred sentence vectors).",
    )
    rerank_depth: int = Field(
        25, ge=1, le=100,
        description="Fused candidates whose sentences are scored for evidence (the shown passages are chosen "
        "from these by their best evidence sentence; RAG_K or less means no re-ranking).",
    )
    generation: str = Field(
        "auto", pattern="^(auto|restate|synthesis)$",
        description="How an LLM writes the answer: 'restate' (each evidence sentence restated in the "
        "question's language, one short call each, side by side), 'synthesis' (one answer from all the "
        "evidence) or 'auto' (restate for the embedded/local model, synthesis for others).",
    )
    followup: str = Field(
        "previous", pattern="^(topic|previous)$",
        description="Offline follow-ups: 'topic' (the question plus the earlier question's topic words) or "
        "'previous' (the earlier question and this one, concatenated). With an LLM the model condenses.",
    )
    condense: str = Field(
        "auto", pattern="^(auto|model|offline)$",
        description="How a follow-up becomes a standalone question when an LLM answers: 'model' (the LLM rewrites "
        "it), 'offline' (as without a model, RAG_FOLLOWUP) or 'auto' (offline for the embedded/local model, whose "
        "rewrites lost facts on dev and the probes; the model for others).",
    )
    evidence_cues: bool = Field(
        True, description="Question-aware evidence: reward sentences carrying what the question's kind asks "
        "for (a cause for why, an amount for how much, a date for when, a reply for how).",
    )
    min_overlap: float = Field(
        0.0, ge=0.0, le=1.0,
        description="Refuse when the evidence holds less than this share of the question's topic words "
        "(in either language; chosen on the dev split).",
    )
    min_answer_probability: float = Field(
        0.20, ge=0.0, le=1.0,
        description="When the model restates the evidence sentence by sentence (the embedded default): refuse "
        "when its probability that the evidence states the answer (a one-token yes/no, read from the server's "
        "logprobs) is below this (chosen on the dev split; 0: the model is not asked).",
    )
    translation: str = Field(
        "dictionary", pattern="^(llm|dictionary|off)$",
        description="Cross-lingual retrieval: 'dictionary' (offline CC-CEDICT + glossary; the default, it costs "
        "no model call), 'llm' (one cached translation call to the answering model, dictionary when "
        "there is none) or 'off'.",
    )
    memo_size: int = Field(
        1024, ge=0, le=100_000,
        description="Model translations (evidence sentences, questions) kept in memory for reuse: a sentence "
        "translated once is shown again at once and reads the same. 0 keeps none (the eval and the benchmarks "
        "use 0, so each question is timed and judged as if asked first).",
    )
    timeout: float = Field(60.0, gt=0, le=3600, description="Seconds to wait for a model reply.")
    max_retries: int = Field(2, ge=0, le=10, description="Retries (with backoff) on transient model errors.")
    temperature: float = Field(0.0, description="Sampling temperature for LLM answers.")
    llama_threads: int | None = Field(
        None, ge=1, le=256, description="Embedded llama.cpp threads for prompt processing and decoding "
        "(default: all cores).")
    llama_ctx: int = Field(
        8192, ge=512, le=131072, description="Embedded llama.cpp context in tokens, shared by the parallel "
        "slots (one RAG prompt with its reply is ~1,000–2,000).")
    llama_parallel: int = Field(
        4, ge=1, le=32, description="Questions the embedded llama.cpp server decodes at once (its slots).")
    llama_max_tokens: int = Field(512, ge=16, le=8192, description="Most tokens a local model may generate.")
    models_dir: Path = Field(PROJECT_DIR / "models", description="Where `rag model fetch` puts GGUF files.")
    embed_threads: int | None = Field(None, description="Threads for the offline embedder (default: all cores).")
    openai_api_key: str | None = Field(
        None, validation_alias=AliasChoices("OPENAI_API_KEY", "RAG_OPENAI_API_KEY"), repr=False,
        description="Key for OpenAI or an OpenAI-compatible server.",
    )
    openai_base_url: str | None = Field(
        None, validation_alias=AliasChoices("OPENAI_BASE_URL", "RAG_OPENAI_BASE_URL"),
        description="Base URL of an OpenAI-compatible server (Ollama, vLLM, llama.cpp server).",
    )
    chroma_host: str | None = Field(None, validation_alias=AliasChoices("CHROMA_HOST", "RAG_CHROMA_HOST"))
    chroma_port: int = Field(8000, validation_alias=AliasChoices("CHROMA_PORT", "RAG_CHROMA_PORT"))
    chroma_ssl: bool = Field(False, validation_alias=AliasChoices("CHROMA_SSL", "RAG_CHROMA_SSL"))
    chroma_auth_token: str | None = Field(
        None, validation_alias=AliasChoices("CHROMA_AUTH_TOKEN", "RAG_CHROMA_AUTH_TOKEN"), repr=False
    )

    @model_validator(mode="after")
    def _overlap_below_chunk(self) -> Settings:
        if self.overlap_tokens >= self.chunk_tokens:
            raise ValueError(
                f"RAG_OVERLAP_TOKENS ({self.overlap_tokens}) must be smaller than RAG_CHUNK_TOKENS ({self.chunk_tokens})"
            )
        return self

    def model_options(self) -> dict:
        return {
            "api_key": self.openai_api_key,
            "base_url": self.openai_base_url,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "temperature": self.temperature,
            "llama_threads": self.llama_threads,
            "llama_ctx": self.llama_ctx,
            "llama_parallel": self.llama_parallel,
            "llama_max_tokens": self.llama_max_tokens,
            "models_dir": self.models_dir,
        }


class SettingsError(ConfigError):
    """A variable in the environment or ``.env`` has a value its setting cannot take."""


FIX = "fix it in the environment or .env"
_KINDS = {
    "int_parsing": "must be an integer", "int_type": "must be an integer", "int_from_float": "must be an integer",
    "float_parsing": "must be a number", "float_type": "must be a number",
    "bool_parsing": "must be true or false", "bool_type": "must be true or false",
}
_SECRET = re.compile(r"KEY|TOKEN|SECRET|PASSWORD")  # never echo these values
_BOUNDS = {"ge": "at least", "gt": "greater than", "le": "at most", "lt": "less than"}


def variable(field: str) -> str:
    """The environment variable of a setting: ``k`` → ``RAG_K``, ``openai_api_key`` → ``OPENAI_API_KEY``."""
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info is not None else None
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return field if field.isupper() else f"RAG_{field.upper()}"


def _wanted(error: dict[str, Any]) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in _KINDS:
        return _KINDS[kind]
    bound = next((b for b in _BOUNDS if b in ctx), None)
    if bound:
        return f"must be {_BOUNDS[bound]} {ctx[bound]}"
    if kind == "string_pattern_mismatch":
        m = re.fullmatch(r"\^\(([\w|]+)\)(\(,\(\1\)\)\*)?\$", str(ctx.get("pattern", "")))
        if m:
            return f"must be {'a comma-separated list of' if m.group(2) else 'one of'} {m.group(1).replace('|', ', ')}"
    return f"is not valid ({error['msg'][:1].lower()}{error['msg'][1:]})"


def settings_message(exc: ValidationError) -> str:
    """The first problem in one line, naming the variable and the fix (secrets never shown)."""
    error = exc.errors()[0]
    if not error["loc"]:  # a rule across settings: its message names the variables
        return f"{error['msg'].removeprefix('Value error, ')}; {FIX}"
    name = variable(str(error["loc"][0]))
    got = str(error.get("input"))
    got = "" if _SECRET.search(name) else f" (got {got[:60] + '…' if len(got) > 60 else got!r})"
    return f"{name} {_wanted(error)}{got}; {FIX}"


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and ``.env`` (also exported for OPENAI_*/CHROMA_* clients), with
    ``overrides`` (None ignored) on top; a bad value is a one-line ``SettingsError``."""
    from dotenv import load_dotenv

    load_dotenv(".env", override=False)
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        raise SettingsError(settings_message(exc)) from None
