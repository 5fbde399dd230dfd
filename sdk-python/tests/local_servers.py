"""Small local servers on 127.0.0.1 for what a live secr does not do: never answer, answer slowly,
redirect, count connections, relay to the live server and cut. Each runs in a daemon thread and is closed by its context manager."""

from __future__ import annotations

import json
import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, Iterator, List, Set, Tuple
from urllib.parse import urlsplit


@contextmanager
def silent_server() -> Iterator[str]:
    """Accepts connections and reads, never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: List[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


def closed_port() -> str:
    """The URL of a loopback port nobody listens on (bound, then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return f"http://127.0.0.1:{port}"


Handler = Callable[[BaseHTTPRequestHandler], None]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    connections = 0
    requests: List[Tuple[str, str, Dict[str, str]]]


@contextmanager
def http_server(handle: Handler) -> Iterator[_Server]:
    """An HTTP/1.1 keep-alive server; `handle` answers each request; counts connections and requests."""

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # Headers and body leave in separate writes: without this, Nagle's algorithm and the
            # client's delayed ACK add 40 ms to every answer.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            server.connections += 1

        def _any(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            server.requests.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
            handle(self)

        do_GET = do_POST = do_PUT = do_DELETE = _any

        def log_message(self, *args: object) -> None:
            pass

    server = _Server(("127.0.0.1", 0), H)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def url_of(server: _Server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def send_json(h: BaseHTTPRequestHandler, status: int, body: object, headers: Dict[str, str] = {}) -> None:
    data = json.dumps(body).encode()
    h.send_response(status)
    h.send_header("content-type", "application/json")
    h.send_header("content-length", str(len(data)))
    for k, v in headers.items():
        h.send_header(k, v)
    h.end_headers()
    h.wfile.write(data)


def trickle(h: BaseHTTPRequestHandler) -> None:
    """Headers at once, then the 100 bytes of the body one every 0.1 s (10 s in all)."""
    h.send_response(200)
    h.send_header("content-type", "application/json")
    h.send_header("content-length", "100")
    h.end_headers()
    try:
        for _ in range(100):
            h.wfile.write(b" ")
            h.wfile.flush()
            time.sleep(0.1)
    except OSError:
        pass


class Relay:
    """A TCP relay to the server whose connections can all be cut at once, as a proxy restart would."""

    def __init__(self, api_url: str) -> None:
        parts = urlsplit(api_url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.sockets: Set[socket.socket] = set()
        self.connections = 0
        #: Connections whose client side has ended (the client closed it, or cut() did).
        self.closed = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                inbound, _ = self.server.accept()
            except OSError:
                return
            outbound = socket.create_connection(self.target, timeout=10)
            outbound.settimeout(None)
            with self.lock:
                self.connections += 1
                self.sockets.update((inbound, outbound))
            threading.Thread(target=self._pipe, args=(inbound, outbound, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(outbound, inbound, False), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, from_client: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            if from_client:
                with self.lock:
                    self.closed += 1

    def cut(self) -> None:
        with self.lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self.sockets.clear()

    def close(self) -> None:
        self.server.close()
        self.cut()
