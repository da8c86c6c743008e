"""The container health check: exit 0 on a 2xx, 1 with the reason otherwise."""

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from runtime.probe import main


class _Answers(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 200 if self.path == "/healthz" else 503
        body = b'{"reason": "temporal: unreachable"}' if status == 503 else b"{}"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads exit codes, not access logs."""


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_healthy_answer_exits_0(server: str) -> None:
    assert main([f"{server}/healthz"]) == 0


def test_a_503_exits_1_with_the_reason(server: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([f"{server}/readyz"]) == 1
    err = capsys.readouterr().err
    assert "answered 503" in err
    assert "temporal: unreachable" in err


def test_nothing_listening_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["http://127.0.0.1:9/healthz"]) == 1
    assert "did not answer" in capsys.readouterr().err
