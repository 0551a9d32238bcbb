"""A local OpenAI-compatible chat completions server on 127.0.0.1: answers from a script of
(status, headers, body) and records every request. With the script empty it answers 200, echoing the last
user message (``echo: ...``) with the model asked for. Requests asking for structured outputs (with a
``response_format``, as drafting a workflow does) take their answers from `structured` first, so that a
test can script drafts while other AI steps run beside them."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


def completion(content: str, model: str = "test-model") -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
    }


def echo(body: dict[str, Any]) -> dict[str, Any]:
    users = [m.get("content") for m in body.get("messages", []) if m.get("role") == "user"]
    return completion(f"echo: {users[-1] if users else ''}", model=str(body.get("model", "?")))


@dataclass
class FakeOpenAI:
    """Answers POST /v1/chat/completions from a script of (status, headers, body); records requests."""

    base_url: str
    script: list[tuple[int, dict[str, str], dict[str, Any]]] = field(default_factory=list)
    structured: list[tuple[int, dict[str, str], dict[str, Any]]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def fake_openai_server() -> Iterator[FakeOpenAI]:
    state = FakeOpenAI(base_url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with state.lock:
                state.requests.append({"path": self.path, "body": body, "auth": self.headers.get("Authorization")})
                queue = state.structured if "response_format" in body and state.structured else state.script
                status, headers, payload = queue.pop(0) if queue else (200, {}, echo(body))
            encoded = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(encoded)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(encoded)

        def log_message(self, *args: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
