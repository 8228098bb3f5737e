"""A scripted OpenAI-compatible HTTP server on 127.0.0.1 for tests.

Serves ``POST /v1/chat/completions`` (plain JSON or SSE streaming) from a queue of
scripted replies, so the real ``openai`` client and ``ChatOpenAI`` are exercised
over real HTTP. A reply is text, or a dict with ``status`` (an HTTP error),
``delay`` (seconds before answering), ``piece_delay`` (seconds before each streamed
piece: a slow model), ``cut_after`` (close the stream after N pieces), ``logprobs``
({token: probability} of the first token, sent when the request asks for logprobs) or
``raw`` (a body sent as it is). Every request body is recorded, and so is each stream
the client closed early (``dropped``).
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class ScriptedOpenAI:
    def __init__(self) -> None:
        self.replies: deque[Any] = deque()
        self.requests: list[dict] = []
        self.dropped: list[int] = []  # for each stream the client closed early, the pieces it got
        self.default: Any = "The articles don't cover this."
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
                reply = server.replies.popleft() if server.replies else server.default
                server._respond(self, body, reply)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> ScriptedOpenAI:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _respond(self, h: BaseHTTPRequestHandler, body: dict, reply: Any) -> None:
        reply = reply(body) if callable(reply) else reply  # a reply may depend on the request
        spec = reply if isinstance(reply, dict) else {"text": reply}
        time.sleep(spec.get("delay", 0))
        if "status" in spec:
            payload = json.dumps({"error": {"message": spec.get("text", "scripted failure"), "type": "server_error"}})
            self._send(h, spec["status"], payload.encode(), "application/json")
            return
        if "raw" in spec:
            self._send(h, 200, spec["raw"].encode(), "application/json")
            return
        text = spec.get("text", "")
        usage = {"prompt_tokens": 50, "completion_tokens": max(1, len(text) // 4)}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if not body.get("stream"):
            payload = {
                "id": "cmpl-1", "object": "chat.completion", "created": 0, "model": body.get("model", "m"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": usage,
            }
            if "logprobs" in spec and body.get("logprobs"):  # {token: probability} of the first reply token
                top = [{"token": t, "logprob": math.log(p), "bytes": None} for t, p in spec["logprobs"].items()]
                payload["choices"][0]["logprobs"] = {"content": [{**top[0], "top_logprobs": top}]}
            self._send(h, 200, json.dumps(payload).encode(), "application/json")
            return
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.end_headers()
        pieces = [text[i : i + 7] for i in range(0, len(text), 7)]
        for i, piece in enumerate(pieces):
            if "cut_after" in spec and i == spec["cut_after"]:
                h.wfile.flush()
                h.connection.shutdown(2)  # the server dies mid-stream
                return
            time.sleep(spec.get("piece_delay", 0))
            chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
                     "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
            try:
                h.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                h.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):  # the client stopped reading
                self.dropped.append(i)
                return
        end = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
               "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": None}
        h.wfile.write(f"data: {json.dumps(end)}\n\n".encode())
        if body.get("stream_options", {}).get("include_usage"):
            last = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m", "choices": [],
                    "usage": usage}
            h.wfile.write(f"data: {json.dumps(last)}\n\n".encode())
        h.wfile.write(b"data: [DONE]\n\n")
        h.wfile.flush()

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, payload: bytes, ctype: str) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        h.wfile.write(payload)
