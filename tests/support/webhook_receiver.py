"""A real HTTP receiver on 127.0.0.1 for notification tests: answers from a script, records
every request (headers, body, arrival time) so tests can check signatures, ids and timing."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival


class WebhookReceiver:
    """Answers each request with the next scripted answer; the last one repeats."""

    def __init__(self, *answers: Answer) -> None:
        self._script = list(answers) or [Answer()]
        self._lock = threading.Lock()
        self.received: list[Received] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def answer_with(self, *answers: Answer) -> None:
        with self._lock:
            self._script = list(answers)

    def wait_for(self, count: int, within: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} requests within {within}s, got {self.received}")

    def _next(self, request: Received) -> Answer:
        with self._lock:
            self.received.append(request)
            return self._script.pop(0) if len(self._script) > 1 else self._script[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                answer = receiver._next(Received(self.path, headers, body, time.monotonic()))
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: tests read `received` instead."""

        return Handler

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def receiver(*answers: Answer) -> Iterator[WebhookReceiver]:
    with WebhookReceiver(*answers) as running:
        yield running


def closed_port() -> str:
    """The address of a port nothing listens on (bound, then released)."""
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as server:
        host, port = server.server_address[:2]
    return f"http://{host!s}:{port}"
