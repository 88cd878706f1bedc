"""A server that answers chat requests in every broken way the suite must survive, on loopback.

`GET /models` is answered properly (one model, "m") unless the behaviour is meant for every path; the
chat endpoint gets the behaviour. The server stops by itself after `lifetime` seconds, and every
endless reply ends then too, so a test that forgets it leaves nothing running.
"""

from __future__ import annotations

import functools
import gzip
import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator

MODELS = json.dumps({"object": "list", "data": [{"id": "m", "object": "model", "created": 1, "owned_by": "x"}]})
CHUNK = ("data: " + json.dumps({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                                "choices": [{"index": 0, "delta": {"content": "la "}, "finish_reason": None}]})
         + "\n\n").encode()
HUGE = 100 * 1024 * 1024


def _head(status: str, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{name}: {value}" for name, value in headers.items()), "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@functools.cache
def _gzip_bomb() -> tuple[bytes, int]:
    """Gzip members that inflate to 10 GiB, and their size: one member of 16 MiB of zeros, repeated."""
    member = gzip.compress(bytes(16 * 1024 * 1024), compresslevel=9)
    return member, 640


class Hostile:
    """One behaviour, served on a free loopback port; `url` is the API root."""

    def __init__(self, behaviour: str, everywhere: bool = False, lifetime: float = 60.0) -> None:
        self.behaviour = behaviour
        self.everywhere = everywhere
        self.deadline = time.monotonic() + lifetime
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/v1"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> Hostile:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()

    def _alive(self) -> bool:
        return not self._stop.is_set() and time.monotonic() < self.deadline

    def _serve(self) -> None:
        while self._alive():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(connection,), daemon=True).start()

    def _handle(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(5)
            try:
                path = self._read_request(connection)
                if path.endswith("/models") and not self.everywhere:
                    connection.sendall(_head("200 OK", {"Content-Type": "application/json",
                                                        "Content-Length": str(len(MODELS))}) + MODELS.encode())
                    return
                getattr(self, f"_{self.behaviour}")(connection, path)
            except OSError:
                return

    @staticmethod
    def _read_request(connection: socket.socket) -> str:
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 65536:
            piece = connection.recv(65536)
            if not piece:
                break
            data += piece
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = next((int(line.split(":", 1)[1]) for line in lines if line.lower().startswith("content-length:")), 0)
        while len(body) < min(length, 1024 * 1024):
            piece = connection.recv(65536)
            if not piece:
                break
            body += piece
        parts = lines[0].split(" ")
        return parts[1] if len(parts) > 1 else "/"

    def _endless(self, connection: socket.socket, pieces: Callable[[], Iterator[bytes]]) -> None:
        for piece in pieces():
            if not self._alive():
                return
            connection.sendall(piece)

    # -- behaviours -------------------------------------------------------------------------------------

    def _garbage(self, connection: socket.socket, path: str) -> None:
        connection.sendall(bytes(range(256)) * 16)

    def _endless_sse(self, connection: socket.socket, path: str) -> None:
        connection.sendall(_head("200 OK", {"Content-Type": "text/event-stream"}))
        self._endless(connection, lambda: iter(lambda: CHUNK * 64, None))

    def _endless_body(self, connection: socket.socket, path: str) -> None:
        connection.sendall(_head("200 OK", {"Content-Type": "application/json"}) + b'{"choices": [')
        self._endless(connection, lambda: iter(lambda: b'{"index": 0}, ' * 1024, None))

    def _slow_drip(self, connection: socket.socket, path: str) -> None:
        connection.sendall(_head("200 OK", {"Content-Type": "application/json"}))

        def drip() -> Iterator[bytes]:
            while True:
                time.sleep(0.05)
                yield b" "
        self._endless(connection, drip)

    def _huge_body(self, connection: socket.socket, path: str) -> None:
        connection.sendall(_head("200 OK", {"Content-Type": "application/json", "Content-Length": str(HUGE)}))
        block = b"x" * (1024 * 1024)
        self._endless(connection, lambda: (block for _ in range(HUGE // len(block))))

    def _invalid_utf8(self, connection: socket.socket, path: str) -> None:
        body = b'{"id": "\xff\xfe", "object": "chat.completion\xc3\x28", "choices": [{"message": "\xed\xa0\x80"}]}'
        connection.sendall(_head("200 OK", {"Content-Type": "application/json; charset=utf-8",
                                            "Content-Length": str(len(body))}) + body)

    def _html_500(self, connection: socket.socket, path: str) -> None:
        body = b"<html><head><title>500</title></head><body><h1>Internal Server Error</h1></body></html>"
        connection.sendall(_head("500 Internal Server Error", {"Content-Type": "text/html",
                                                               "Content-Length": str(len(body))}) + body)

    def _reset(self, connection: socket.socket, path: str) -> None:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def _gzip_bomb(self, connection: socket.socket, path: str) -> None:
        member, count = _gzip_bomb()
        connection.sendall(_head("200 OK", {"Content-Type": "application/json", "Content-Encoding": "gzip",
                                            "Content-Length": str(len(member) * count)}))
        self._endless(connection, lambda: (member for _ in range(count)))

    def _redirect_loop(self, connection: socket.socket, path: str) -> None:
        connection.sendall(_head("307 Temporary Redirect", {"Location": path, "Content-Length": "0"}))


BEHAVIOURS = ("garbage", "endless_sse", "endless_body", "slow_drip", "huge_body", "invalid_utf8", "html_500",
              "reset", "gzip_bomb", "redirect_loop")
