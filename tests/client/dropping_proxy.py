"""A proxy in front of the web process that loses answers: for each of the first `drop`
requests it forwards the request whole, reads the service's whole answer (so the service
has done everything it was asked: the job is stored), then resets the client's connection
without a byte of it. What a client sees when the network fails on the way back."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from urllib.parse import urlsplit


class DroppingProxy:
    def __init__(self, upstream: str, drop: int) -> None:
        parts = urlsplit(upstream)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.to_drop = drop
        self.dropped = 0
        self.forwarded = 0
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                self._one(conn)

    def _one(self, conn: socket.socket) -> None:
        request = _read_request(conn)
        with socket.create_connection(self.target, timeout=60) as up:
            up.sendall(request)
            answer = b""
            while chunk := up.recv(65536):  # urllib asks Connection: close
                answer += chunk
        self.forwarded += 1
        if self.dropped < self.to_drop:
            self.dropped += 1
            # A reset: the answer the service wrote never arrives.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return
        with contextlib.suppress(OSError):
            conn.sendall(answer)


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        body += conn.recv(65536)
    return head + b"\r\n\r\n" + body
