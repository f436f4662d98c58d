"""Starting and stopping real processes for the integration and ops tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port nothing listens on right now (the OS picks it, so parallel runs differ)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(
    condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.2
) -> Any:
    """Poll `condition` until it returns something truthy; fail naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def start_process(
    command: str | list[str], *, env: dict[str, str], log: Path, cwd: Path = REPO
) -> subprocess.Popen:
    """Start `command` in a session of its own, so stop_process can end it and every child."""
    # The child holds its own copy of the log's descriptor; ours closes when Popen returns.
    with open(log, "ab") as handle:
        return subprocess.Popen(
            command,
            shell=isinstance(command, str),
            executable="/bin/bash" if isinstance(command, str) else None,
            cwd=cwd,
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def stop_process(proc: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM the process group, SIGKILL it if it is still there after `timeout` s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=timeout)
            if not _group_alive(proc.pid):
                return
        except subprocess.TimeoutExpired:
            pass
        if sig == signal.SIGTERM:
            # Children of the group may outlive the leader for a moment.
            deadline = time.monotonic() + timeout
            while _group_alive(proc.pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if not _group_alive(proc.pid):
                return


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_redis(
    port: int, *, log: Path, data_dir: Path | None = None, bind: tuple[str, ...] = ("127.0.0.1",)
) -> subprocess.Popen:
    """A redis-server of the test's own on `port` of the `bind` addresses (no persistence),
    once it answers on the first of them.

    Skips the test where redis-server is not installed (scripts/test.sh installs it)."""
    import shutil

    import redis

    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (scripts/test.sh installs and starts it)")
    command = [server, "--port", str(port), "--bind", *bind, "--save", ""]
    command += ["--appendonly", "no"]
    if set(bind) != {"127.0.0.1"}:
        # Protected mode refuses every client that is not on loopback; these addresses are
        # a test's private veth links, which nothing outside this machine reaches.
        command += ["--protected-mode", "no"]
    if data_dir is not None:
        command += ["--dir", str(data_dir)]
    proc = start_process(command, env=dict(os.environ), log=log)
    client = redis.Redis(host=bind[0], port=port, socket_connect_timeout=0.5)

    def answers() -> bool:
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False

    try:
        wait_until(answers, 20, f"the redis-server on port {port} to answer")
    except BaseException:
        stop_process(proc)  # a server that never answered is still ours to stop
        raise
    return proc
