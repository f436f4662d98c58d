"""The gunicorn worker the Procfile's `web` line runs: gthread, but no thread ever waits
for a client.

gunicorn's gthread worker hands a connection to a thread as soon as its first bytes
arrive, and that thread then blocks until the whole request is in: 20 clients that sent
half a header each held 20 threads for good, and 30 that sent half a body stopped every
request for 40 s. Here the worker's event loop (the one gthread already runs for
kept-alive connections) reads each request whole, headers and body, without blocking,
and only a complete request goes to a thread, whose parser then reads it from memory.
A client must send its headers within WEB_HEADER_TIMEOUT seconds of connecting (or of
its first byte on a kept-alive connection) and its body within WEB_BODY_TIMEOUT seconds
after that; past either it gets a 408 and the connection is closed. A slow client so
costs a socket and its buffered bytes, never a thread.

Why in the worker rather than a proxy in front: on a Heroku-style platform the
Procfile's `web` line is all there is, so a buffering proxy would be a second process to
supervise and a second hop for every status poll. Why not another server: this keeps
gunicorn's parser, limits and process model, which the rest of the service was measured
and tested with.

The same event loop answers, without the application, what needs no application: a
body sent chunked (411: say its Content-Length), one over REQUEST_MAX_BYTES (413, before
it is read) and a header block over MAX_HEAD_BYTES (431). Errors gunicorn's own parser
raises (a bad request line, 414, 400 for a malformed header) are written as JSON like
every other error of the service (`detail`), not gunicorn's HTML page.
"""

from __future__ import annotations

import contextlib
import errno
import json
import selectors
import socket
import struct
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from gunicorn import util
from gunicorn.workers import gthread

from service.env import env_float, env_int

# The largest header block read (request line and fields); nginx's default allows 4 x 8 KiB
# per line. gunicorn's own limits (4094 bytes a line, 8190 a field) still apply after.
MAX_HEAD_BYTES = 32 * 1024
# Bytes read from a socket per recv(): the largest body (REQUEST_MAX_BYTES) comes in a
# few reads, and a slow client's few bytes in one.
RECV_BYTES = 64 * 1024

_REASONS = {
    400: "Bad Request",
    408: "Request Timeout",
    411: "Length Required",
    413: "Content Too Large",
    414: "URI Too Long",
    417: "Expectation Failed",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    503: "Service Unavailable",
}


@dataclass(frozen=True)
class ReadLimits:
    """How long a client may take to send a request, and to take its answer, and how many
    bytes of requests not yet whole one worker process holds."""

    header_timeout: float
    body_timeout: float
    send_timeout: float
    buffer_bytes: int

    @classmethod
    def from_env(cls) -> ReadLimits:
        # Read by gunicorn.conf.py too, so a wrong value stops gunicorn at start-up.
        return cls(
            header_timeout=env_float("WEB_HEADER_TIMEOUT", 10.0, minimum=0.5),
            body_timeout=env_float("WEB_BODY_TIMEOUT", 20.0, minimum=0.5),
            send_timeout=env_float("WEB_SEND_TIMEOUT", 30.0, minimum=1.0),
            buffer_bytes=env_int("WEB_READ_BUFFER_MB", 64, minimum=1) * 1024 * 1024,
        )


def error_response(status: int, detail: str, headers: dict[str, str] | None = None) -> bytes:
    """A complete HTTP/1.1 response with the service's JSON error body; it closes the
    connection (whatever the client sent after is not read)."""
    body = json.dumps({"detail": detail}).encode()
    lines = [
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def write_json_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn.util.write_error's signature, writing JSON instead of an HTML page."""
    util.write_nonblock(sock, error_response(status_int, mesg or reason))


@dataclass
class _Inbound:
    """A request being read by the event loop."""

    conn: gthread.TConn
    buf: bytearray
    deadline: float
    # Where the header block ends (the first body byte), once it has been seen.
    head_end: int | None = None
    # The whole request's size, once the headers have said it.
    total: int | None = None
    sent_continue: bool = field(default=False)


@dataclass(frozen=True)
class _Head:
    """What the event loop needs to know of a header block to read the rest."""

    content_length: int | None
    # Set when the framing cannot be decided here (two Content-Lengths that disagree, one
    # that is not a number): the application's parser answers that request.
    ambiguous: bool
    chunked: bool
    expects_continue: bool


def _find_head_end(buf: bytearray) -> int | None:
    """The index just past the blank line that ends the header block, or None."""
    ends = [i + 4 for i in (buf.find(b"\r\n\r\n"),) if i >= 0]
    ends += [i + 2 for i in (buf.find(b"\n\n"),) if i >= 0]
    return min(ends) if ends else None


def _parse_head(head: bytes) -> _Head:
    lengths: list[bytes] = []
    chunked = expects_continue = False
    request_line, *fields = head.split(b"\n")
    for line in fields:
        name, sep, value = line.partition(b":")
        if not sep:
            continue
        name, value = name.strip().lower(), value.strip()
        if name == b"content-length":
            lengths.append(value)
        elif name == b"transfer-encoding":
            chunked = True
        elif name == b"expect" and value.lower() == b"100-continue":
            expects_continue = b"HTTP/1.1" in request_line
    if not lengths:
        return _Head(None, False, chunked, expects_continue)
    if len(set(lengths)) != 1 or not lengths[0].isdigit() or len(lengths[0]) > 18:
        return _Head(None, True, chunked, expects_continue)
    return _Head(int(lengths[0]), False, chunked, expects_continue)


class BufferingWorker(gthread.ThreadWorker):
    """gunicorn's gthread worker whose event loop reads every request whole before a
    thread sees it (the module's docstring says why)."""

    @classmethod
    def check_config(cls, cfg: Any, log: Any) -> None:
        super().check_config(cfg, log)
        # TLS and HTTP/2 read through their own layers, which this loop does not speak;
        # the platform terminates both in front of the app.
        if cfg.is_ssl or any(p != "h1" for p in getattr(cfg, "http_protocols", ["h1"])):
            raise RuntimeError("BufferingWorker serves plain HTTP/1.1 only: no TLS, no HTTP/2")

    def init_process(self) -> None:
        self.limits = ReadLimits.from_env()
        self.inbound: dict[int, _Inbound] = {}
        # Bytes held for requests still being read: a thousand clients each sending most
        # of a 512 KiB body would otherwise hold half a GiB of this process's memory.
        self.buffered = 0
        util.write_error = write_json_error
        super().init_process()

    def _max_body(self) -> int:
        # The application's limit (settings are loaded with it, before the first request).
        from django.conf import settings

        return int(settings.REQUEST_MAX_BYTES)

    # --- where connections enter the read stage -------------------------------------------

    def accept(self, listener: socket.socket) -> None:
        try:
            client_sock, client_addr = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        conn = gthread.TConn(self.cfg, client_sock, client_addr, listener.getsockname())
        self._read_request(conn, b"")

    def on_client_socket_readable(self, conn: gthread.TConn, client: socket.socket) -> None:
        # A kept-alive connection's next request: read it here too.
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._read_request(conn, b"")

    def finish_request(self, conn: gthread.TConn, fs: Any) -> None:
        # A client may send its next request behind the last one; the parser holds what it
        # read ahead, which gthread would hand straight to a thread. Read the rest here.
        try:
            keep = fs.result() if not fs.cancelled() else False
        except Exception:
            keep = False
        if keep and keep is not gthread._DEFER and conn.parser is not None:
            ahead = conn.parser.unreader.take_buffered()
            if ahead:
                self._read_request(conn, ahead)
                return
        super().finish_request(conn, fs)

    # --- the read stage -------------------------------------------------------------------

    def _read_request(self, conn: gthread.TConn, ahead: bytes) -> None:
        conn.sock.setblocking(False)
        inbound = _Inbound(
            conn=conn, buf=bytearray(ahead), deadline=time.monotonic() + self.limits.header_timeout
        )
        fd = conn.sock.fileno()
        self.inbound[fd] = inbound
        if ahead:
            self._advance(inbound)
        # A quick client's request is usually in the socket already when it is accepted:
        # read it now, and leave to the poller only what has not arrived yet.
        if self.inbound.get(fd) is inbound:
            self._on_readable(inbound, conn.sock)
        if self.inbound.get(fd) is inbound:
            self.poller.register(
                conn.sock, selectors.EVENT_READ, partial(self._on_readable, inbound)
            )

    def _on_readable(self, inbound: _Inbound, sock: socket.socket) -> None:
        try:
            data = sock.recv(RECV_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away
            self._drop(inbound)
            return
        if self.buffered + len(data) > self.limits.buffer_bytes:
            self._answer(
                inbound,
                503,
                "The server is holding as many incoming requests as it can; try again shortly.",
                {"Retry-After": "5"},
            )
            return
        inbound.buf += data
        self.buffered += len(data)
        self._advance(inbound)

    def _advance(self, inbound: _Inbound) -> None:
        """Look at what has arrived: wait for more, answer here, or hand it to a thread."""
        if inbound.head_end is None:
            head_end = _find_head_end(inbound.buf)
            if head_end is None:
                if len(inbound.buf) > MAX_HEAD_BYTES:
                    self._answer(
                        inbound,
                        431,
                        f"The request's header block is over {MAX_HEAD_BYTES} bytes.",
                    )
                return
            if head_end > MAX_HEAD_BYTES:
                self._answer(
                    inbound, 431, f"The request's header block is over {MAX_HEAD_BYTES} bytes."
                )
                return
            inbound.head_end = head_end
            head = _parse_head(bytes(inbound.buf[:head_end]))
            if head.chunked:
                self._answer(
                    inbound,
                    411,
                    "A request body must be sent with a Content-Length header, "
                    "not in chunks (Transfer-Encoding).",
                )
                return
            if head.ambiguous:
                self._hand_off(inbound)  # the parser answers it with its 400
                return
            length = head.content_length or 0
            limit = self._max_body()
            if length > limit:
                self._answer(
                    inbound,
                    413,
                    f"The request body is {length} bytes; the most accepted is {limit} "
                    "(REQUEST_MAX_BYTES).",
                )
                return
            inbound.total = head_end + length
            inbound.deadline = time.monotonic() + self.limits.body_timeout
            if head.expects_continue and len(inbound.buf) < inbound.total:
                self._send_quietly(inbound.conn.sock, b"HTTP/1.1 100 Continue\r\n\r\n")
        if inbound.total is not None and len(inbound.buf) >= inbound.total:
            self._hand_off(inbound)

    def _hand_off(self, inbound: _Inbound) -> None:
        """The request is in memory: a thread parses and answers it without waiting."""
        conn = self._leave_read_stage(inbound)
        conn.data_ready = True
        conn.init()  # the parser, once per connection (a no-op when kept alive)
        conn.parser.unreader.unread(bytes(inbound.buf))
        # A thread writing an answer to a client that stopped reading would block with
        # it: the send gives up after WEB_SEND_TIMEOUT and the connection is closed.
        seconds = int(self.limits.send_timeout)
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", seconds, 0))
        self.enqueue_req(conn)

    def _answer(
        self, inbound: _Inbound, status: int, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        self._send_quietly(inbound.conn.sock, error_response(status, detail, headers))
        self._drop(inbound)

    def _leave_read_stage(self, inbound: _Inbound) -> gthread.TConn:
        conn = inbound.conn
        if self.inbound.pop(conn.sock.fileno(), None) is not None:
            self.buffered -= len(inbound.buf)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)
        return conn

    def _drop(self, inbound: _Inbound) -> None:
        conn = self._leave_read_stage(inbound)
        self.nr_conns -= 1
        conn.close()

    @staticmethod
    def _send_quietly(sock: socket.socket, data: bytes) -> None:
        # Best effort from the event loop: a client that does not read is not waited for.
        with contextlib.suppress(OSError):
            sock.send(data)

    def murder_pending(self) -> None:
        """Also close every request not sent in time (run by the loop at least once a
        second, so a deadline is kept within a second)."""
        super().murder_pending()
        now = time.monotonic()
        for inbound in list(self.inbound.values()):
            if not inbound.buf:
                # Connected and sent nothing: nobody to tell. A stopping worker does not
                # wait for it either.
                if inbound.deadline <= now or not self.alive:
                    self._drop(inbound)
            elif inbound.deadline <= now:
                self._answer(inbound, 408, self._late(inbound))

    def _late(self, inbound: _Inbound) -> str:
        if inbound.head_end is None:
            return (
                f"The request's headers did not arrive within {self.limits.header_timeout:g} s "
                "(WEB_HEADER_TIMEOUT)."
            )
        return (
            f"The request's body did not arrive within {self.limits.body_timeout:g} s "
            "of its headers (WEB_BODY_TIMEOUT)."
        )
