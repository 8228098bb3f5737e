"""Model failures as one-line, secret-free messages: the one classifier every model call uses.

Timeouts, rejected keys, rate limits, HTTP 4xx/5xx (with the server's own reason),
unreachable servers and malformed replies each get a message that names the fix.
What it leaves out: retrying (the OpenAI client's ``max_retries``) and what an
answer does with a failure that comes after some text (``rag.answer.replies``).
"""

from __future__ import annotations

from collections.abc import Sequence

from rag.errors import ModelError


def model_error(exc: BaseException, model: str, secrets: Sequence[str | None] = ()) -> ModelError:
    """A one-line, secret-free message for any failure of a model call."""
    chain: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and len(chain) < 5:
        chain.append(e)
        e = e.__cause__ or e.__context__
    names = {type(x).__name__ for x in chain for _ in [0]} | {
        b.__name__ for x in chain for b in type(x).__mro__
    }
    status = next((getattr(x, "status_code", None) for x in chain if getattr(x, "status_code", None)), None)
    if "APITimeoutError" in names or "TimeoutException" in names or "ReadTimeout" in names:
        msg = f"the model {model} did not answer in time; try again, or raise RAG_TIMEOUT"
    elif "AuthenticationError" in names or status == 401:
        msg = f"the model {model} rejected the API key; check OPENAI_API_KEY in .env"
    elif "RateLimitError" in names or status == 429:
        msg = f"the model {model} is rate-limited (HTTP 429); wait a moment and try again"
    elif status == 404:
        msg = (f"the model {model} was not found (HTTP 404){_detail(chain)}; check the model name in "
               "RAG_CHAT_MODEL and OPENAI_BASE_URL")
    elif status and 400 <= status < 500:
        msg = (f"the model {model} refused the request (HTTP {status}){_detail(chain)}; retrying will not help: "
               "check RAG_CHAT_MODEL and OPENAI_BASE_URL (a local model: RAG_LLAMA_CTX, RAG_LLAMA_MAX_TOKENS)")
    elif status:
        msg = f"the model {model} failed with HTTP {status}; try again, or check the model server"
    elif "APIConnectionError" in names or "ConnectError" in names or "ModelConnectionError" in names:
        msg = f"cannot reach the model {model}; check OPENAI_BASE_URL / the network, or use RAG_CHAT_MODEL=extractive"
    elif "JSONDecodeError" in names or any("No generation" in str(x) for x in chain):
        msg = (f"the model {model} sent a malformed or empty reply; check that OPENAI_BASE_URL points at an "
               "OpenAI-compatible server, or try again")
    else:
        msg = f"the model {model} failed ({type(exc).__name__}); try again or use RAG_CHAT_MODEL=extractive"
    for secret in secrets:
        if secret:
            msg = msg.replace(secret, "***")
    return ModelError(msg)


def _detail(chain: Sequence[BaseException], limit: int = 160) -> str:
    """The server's own one-line reason for a refused request (``error.message`` of the body), if any."""
    for x in chain:
        body = getattr(x, "body", None)
        text = body.get("message") if isinstance(body, dict) else None
        if isinstance(text, str) and text.strip():
            text = " ".join(text.split())
            return f": {text[:limit]}{'…' if len(text) > limit else ''}"
    return ""
