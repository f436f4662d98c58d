"""A slow-client attack on a running web tier, and what it cost: used by
tests/integration/test_web_tier.py and by bench/slow_clients.py.

`hold(base, sockets, seconds)` keeps `sockets` connections open for `seconds`, half of them
having sent half a header block and half a complete header block with a fraction of its
body (the two ways a slowloris holds a server), opening a new one whenever the server
closes one; meanwhile a second thread asks /healthz five times a second on connections of
its own. Every socket the server closed is timed from its connect to its end of file.
Only loopback addresses are ever targeted.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import statistics
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

HALF_HEAD = b"GET /api/jobs/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Tok"
HALF_BODY = (
    b"POST /api/submit/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Content-Length: 1000\r\n\r\n"
    b'{"casino": '
)
KINDS = {"head": HALF_HEAD, "body": HALF_BODY}


@dataclass
class Closed:
    kind: str
    lifetime: float
    # The first line the server wrote before closing (b"" when it closed without a word).
    status_line: bytes


@dataclass
class Report:
    opened: int = 0
    closed: list[Closed] = field(default_factory=list)
    # Ages of the sockets still open when the hold ended, by kind.
    still_open: list[tuple[str, float]] = field(default_factory=list)
    health_seconds: list[float] = field(default_factory=list)
    health_failures: list[str] = field(default_factory=list)

    def lifetimes(self, kind: str) -> list[float]:
        return [c.lifetime for c in self.closed if c.kind == kind]

    def health_p95(self) -> float:
        times = sorted(self.health_seconds)
        return times[min(len(times) - 1, int(0.95 * len(times)))] if times else float("nan")

    def summary(self) -> str:
        lines = [f"slow sockets opened: {self.opened}, closed by the server: {len(self.closed)}"]
        for kind in KINDS:
            life = self.lifetimes(kind)
            if life:
                lines.append(
                    f"  half {kind}: {len(life)} closed, time to close median "
                    f"{statistics.median(life):.1f} s, max {max(life):.1f} s"
                )
        if self.still_open:
            lines.append(
                f"  still open at the end: {len(self.still_open)}, oldest "
                f"{max(age for _, age in self.still_open):.1f} s"
            )
        times = self.health_seconds
        if times:
            lines.append(
                f"/healthz: {len(times)} answered, {len(self.health_failures)} failed; "
                f"median {statistics.median(times) * 1000:.1f} ms, p95 "
                f"{self.health_p95() * 1000:.1f} ms, max {max(times) * 1000:.1f} ms"
            )
        return "\n".join(lines)


def _poll_health(url: str, stop: threading.Event, report: Report) -> None:
    while not stop.is_set():
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                response.read()
                status = response.status
        except (urllib.error.URLError, OSError) as exc:
            report.health_failures.append(f"{type(exc).__name__}: {exc}")
        else:
            if status == 200:
                report.health_seconds.append(time.perf_counter() - started)
            else:
                report.health_failures.append(f"status {status}")
        stop.wait(0.2)


def hold(base: str, sockets: int, seconds: float) -> Report:
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    assert host in ("127.0.0.1", "localhost", "::1"), "only loopback is a target"
    report = Report()
    selector = selectors.DefaultSelector()
    opened_at: dict[socket.socket, tuple[str, float, bytearray]] = {}

    def open_one(kind: str) -> None:
        sock = socket.create_connection((host, port), timeout=5)
        sock.sendall(KINDS[kind])
        sock.setblocking(False)
        opened_at[sock] = (kind, time.monotonic(), bytearray())
        selector.register(sock, selectors.EVENT_READ)
        report.opened += 1

    stop = threading.Event()
    health = threading.Thread(target=_poll_health, args=(f"{base}/healthz", stop, report))
    try:
        for i in range(sockets):
            open_one("head" if i % 2 == 0 else "body")
        health.start()
        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            for key, _ in selector.select(timeout=min(left, 0.5)):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                kind, started, got = opened_at[sock]
                try:
                    data = sock.recv(4096)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if data:
                    got += data
                    continue
                selector.unregister(sock)
                sock.close()
                del opened_at[sock]
                report.closed.append(
                    Closed(kind, time.monotonic() - started, bytes(got).split(b"\r\n", 1)[0])
                )
                open_one(kind)  # keep the attack at full strength
        now = time.monotonic()
        report.still_open = [(kind, now - started) for kind, started, _ in opened_at.values()]
    finally:
        stop.set()
        if health.is_alive():
            health.join(timeout=15)
        for sock in list(opened_at):
            with contextlib.suppress(OSError):
                sock.close()
        selector.close()
    return report
