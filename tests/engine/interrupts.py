"""Interrupting the command line (`python -m jost_engine`) mid-run, as a terminal's Ctrl-C
(SIGINT to the process group), `kill` or `timeout` (a signal to the parent alone) does, and
seeing that every worker process it started is gone. Linux only: the process tree is read
from /proc."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).parents[2]


def children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        found.update(int(p) for p in (task / "children").read_text().split())
    return found


def alive(pid: int) -> bool:
    """Not yet exited: a zombie (exited, waiting for whoever inherited it to reap it) has."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@dataclass(frozen=True)
class Interrupted:
    returncode: int
    out: str
    err: str
    workers: set[int]  # the run's child processes when the signal was sent


def interrupt_run(
    argv: list[str], started: Callable[[str], bool], how: str, sig: signal.Signals
) -> Interrupted:
    """Run the command line with `argv` (its progress bar on, so its stderr says when it
    is working), wait until `started` holds of the last of that stderr, then send `sig` to
    "the process group" or "the parent" (`how`) and wait for the run to end."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "jost_engine", *argv],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stderr is not None
        seen = ""
        while not started(seen):
            seen = seen[-100:] + proc.stderr.read(100)
            assert proc.poll() is None, "the run ended before it was interrupted"
        workers = children(proc.pid)
        if how == "the process group":
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return Interrupted(proc.returncode, out, err, workers)


def assert_all_gone(workers: set[int], timeout: float = 10) -> None:
    """Every one of `workers` has exited within `timeout` seconds (a zombie counts)."""
    deadline = time.monotonic() + timeout
    while any(map(alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(map(alive, workers)), sorted(filter(alive, workers))
