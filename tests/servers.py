"""A tiny HTTP/1.1 server on 127.0.0.1 for loopback tests; the test supplies the handler.

    def handle(request, reply):
        reply.send(200, b"<xml/>", {"Content-Type": "text/xml"})

    with LoopbackServer(handle) as server:
        requests.get(server.url + "/path")
        assert server.requests[0].method == "GET"

The handler runs for every request, whatever its method (M-POST, SUBSCRIBE, NOTIFY...).
``reply`` is the :class:`http.server.BaseHTTPRequestHandler`, with :meth:`Reply.send` added;
``reply.wfile`` is there for anything unusual. ``server.stopping`` is set when the server
closes, so a handler that must hang can wait on it. Closing shuts every open connection and
joins every thread. tests/fakes.py builds a fake UPnP device (documents, SOAP, GENA) on it.
"""

from __future__ import annotations

import http.client
import http.server
import socket
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Dict, List, Mapping, Optional

if TYPE_CHECKING:
    import requests

__all__ = ["Request", "Reply", "LoopbackServer", "headers_dict"]


@dataclass
class Request:
    """One request as the server read it."""

    method: str
    path: str
    headers: http.client.HTTPMessage  # case-insensitive access; .items() keeps the spelling
    body: bytes


class Reply(http.server.BaseHTTPRequestHandler):
    """The request handler; a test's handler writes its answer through it."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def send(
        self, status: int, body: bytes = b"", headers: Optional[Mapping[str, str]] = None
    ) -> None:
        """Send a whole response with a Content-Length (unless *headers* set framing)."""
        self.send_response(status)
        headers = dict(headers or {})
        if not any(k.lower() in ("content-length", "transfer-encoding") for k in headers):
            headers["Content-Length"] = str(len(body))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm holds the
        # second until the client's delayed ACK, 40 ms a request on a kept-alive connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def handle(self) -> None:  # one call per TCP connection
        with self.server.lock:
            self.server.connections += 1
            self.server.sockets.append(self.connection)
        try:
            super().handle()
        except OSError:  # the client went away mid-answer: expected in some tests
            self.close_connection = True

    def handle_one_request(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if not self.raw_requestline or not self.parse_request():
            self.close_connection = True
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, self.path, self.headers, body)
        with self.server.lock:
            self.server.requests.append(request)
        self.server.handler(request, self)
        self.wfile.flush()

    def log_message(self, format: str, *args: object) -> None:  # keep quiet
        pass


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = False  # server_close() joins them
    block_on_close = True
    request_queue_size = 64  # tests open many connections at once

    def __init__(self, handler: Callable[[Request, Reply], None]) -> None:
        super().__init__(("127.0.0.1", 0), Reply)
        self.handler = handler
        self.lock = threading.Lock()
        self.connections = 0
        self.sockets: List[socket.socket] = []
        self.requests: List[Request] = []
        self.stopping = threading.Event()

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a handler's failure shows up as the client's failure in the test


class LoopbackServer:
    """Serve *handler* on ``127.0.0.1:<free port>`` in a background thread until closed."""

    def __init__(self, handler: Callable[[Request, Reply], None]) -> None:
        self._server = _Server(handler)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"loopback-{port}",
        )
        self._thread.start()

    @property
    def requests(self) -> List[Request]:
        """Every request received so far, in order."""
        with self._server.lock:
            return list(self._server.requests)

    @property
    def connections(self) -> int:
        """How many TCP connections were accepted."""
        with self._server.lock:
            return self._server.connections

    @property
    def stopping(self) -> threading.Event:
        """Set when the server closes; a hanging handler should wait on it."""
        return self._server.stopping

    def close(self) -> None:
        """Stop serving, cut open connections, and join every thread."""
        self._server.stopping.set()
        self._server.shutdown()
        with self._server.lock:
            sockets = list(self._server.sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def headers_dict(request: Request) -> Dict[str, str]:
    """The request's headers with their spelling kept (for exact-spelling assertions)."""
    return dict(request.headers.items())


def new_session() -> requests.Session:
    """A requests session as a user would hand one in (no proxies from the environment)."""
    import requests

    session = requests.Session()
    session.trust_env = False
    return session
