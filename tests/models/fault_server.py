"""A small fault-injecting OpenAI-compatible server on 127.0.0.1, for the backend's tests.

It answers ``/v1/completions`` and ``/v1/chat/completions`` and follows a scripted list of
behaviours, one per request received, in order: ``"429"`` (with ``Retry-After: 0``),
``"500"``, ``"slow"`` (sleeps ``slow_s`` before answering, longer than the client timeout),
``"malformed"`` (200 with a truncated JSON body), ``"400"``, ``"500echo"`` (a 500 whose body
echoes the request's Authorization header, as careless servers do) and ``"ok"``. When the script is
used up every request gets ``default``. ``fail_after=N`` makes every request after the N-th
good answer a 500 (a server that died mid-run). It counts the requests received per prompt
(``counts``) and the good answers sent per prompt (``answered``), the most requests in flight at
once (``max_in_flight``), and keeps the Authorization headers it saw. ``models`` is the
``/v1/models`` entry it lists (default: ``max_model_len`` 2048, as vLLM says) and ``props``
what llama.cpp's ``/props`` answers (default: no such endpoint, 404). ``echo(text)`` gives the
``logprobs`` object (``tokens``, ``token_logprobs``, ``text_offset``) of a completions request
with ``echo``, as vLLM does; without it such a request is answered 400.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

ReplyFn = Callable[[str], tuple[str, dict[str, float]]]


def nli_reply(prompt: str) -> tuple[str, dict[str, float]]:
    """Default answer: greedy reply " entailment", first-token top logprobs in llama.cpp style."""
    return " entailment", {" entail": -0.2, " neutral": -2.1, " contrad": -3.3, " The": -4.0, "\n": -5.5}


class FaultServer:
    """Context manager running the scripted server in a thread; ``base_url`` ends in ``/v1``."""

    def __init__(self, script: list[str] | None = None, *, default: str = "ok", reply: ReplyFn = nli_reply,
                 slow_s: float = 1.0, fail_after: int | None = None,
                 models: dict[str, Any] | None = None, props: dict[str, Any] | None = None,
                 echo: Callable[[str], dict[str, Any]] | None = None):
        self.echo = echo
        self.models = {"id": "fault", "max_model_len": 2048} if models is None else models
        self.props = props
        self.script, self.default, self.reply, self.slow_s = list(script or []), default, reply, slow_s
        self.fail_after = fail_after
        self.counts: Counter[str] = Counter()
        self.answered: Counter[str] = Counter()
        self.in_flight = self.max_in_flight = 0
        self.auth_headers: list[str] = []
        self.good_answers = 0
        self.bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __enter__(self) -> "FaultServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _next(self) -> str:
        with self._lock:
            behaviour = self.script.pop(0) if self.script else self.default
            if behaviour == "ok" and self.fail_after is not None and self.good_answers >= self.fail_after:
                behaviour = "500"
            if behaviour == "ok":
                self.good_answers += 1
            return behaviour

    def _answer(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        chat = path.endswith("/chat/completions")
        prompt = body["messages"][0]["content"] if chat else body["prompt"]
        text, top = self.reply(prompt)
        want = body.get("top_logprobs") if chat else body.get("logprobs")
        choice: dict[str, Any] = {"index": 0, "finish_reason": "stop"}
        if chat:
            choice["message"] = {"role": "assistant", "content": text}
            if body.get("logprobs") and top:
                first = max(top, key=top.get)
                entries = [{"token": t, "logprob": lp} for t, lp in list(top.items())[: want or 0]]
                choice["logprobs"] = {"content": [{"token": first, "logprob": top[first], "top_logprobs": entries}]}
        else:
            choice["text"] = text
            if want and top:
                choice["logprobs"] = {"tokens": [max(top, key=top.get)], "top_logprobs": [dict(list(top.items())[:want])]}
        return {"id": "x", "object": "chat.completion" if chat else "text_completion", "model": body.get("model"), "choices": [choice]}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout); nothing to do

            def do_GET(self) -> None:
                if self.path == "/v1/models":
                    self._send(200, json.dumps({"object": "list", "data": [server.models]}).encode())
                elif self.path == "/props" and server.props is not None:
                    self._send(200, json.dumps(server.props).encode())
                else:
                    self._send(404, b'{"error": "not found"}')

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path not in ("/v1/completions", "/v1/chat/completions"):
                    self._send(404, b'{"error": "not found"}')
                    return
                body = json.loads(raw)
                prompt = body["messages"][0]["content"] if "messages" in body else body["prompt"]
                with server._lock:
                    server.counts[prompt] += 1
                    server.auth_headers.append(self.headers.get("Authorization", ""))
                    server.bodies.append(body)
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                status, payload, headers = self._behave(server._next(), body)
                with server._lock:  # book-keeping before the client can see the answer
                    server.in_flight -= 1
                    if status == 200 and payload.endswith(b"}"):
                        server.answered[prompt] += 1
                self._send(status, payload, headers)

            def _behave(self, behaviour: str, body: dict[str, Any]) -> tuple[int, bytes, dict[str, str]]:
                if behaviour == "429":
                    return 429, b'{"error": "rate limited"}', {"Retry-After": "0"}
                if behaviour == "500":
                    return 500, b'{"error": "internal error"}', {}
                if behaviour == "500echo":
                    return 500, json.dumps({"error": f"bad auth {self.headers.get('Authorization', '')}"}).encode(), {}
                if behaviour == "400":
                    return 400, b'{"error": "bad request"}', {}
                if behaviour == "malformed":
                    return 200, b'{"choices": [{"text": "entail', {}
                if behaviour == "slow":
                    time.sleep(server.slow_s)
                if body.get("echo"):
                    if server.echo is None or "prompt" not in body:
                        return 400, b'{"error": "echo is not supported"}', {}
                    choice = {"index": 0, "text": body["prompt"] + " x", "finish_reason": "length", "logprobs": server.echo(body["prompt"])}
                    return 200, json.dumps({"id": "x", "object": "text_completion", "choices": [choice]}).encode(), {}
                return 200, json.dumps(server._answer(self.path, body)).encode(), {}

        return Handler
