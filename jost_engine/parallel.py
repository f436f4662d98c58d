"""A split run's shards over processes: `python -m jost_engine CONFIG --jobs N` and
`python -m jost_engine indices REQUEST --jobs N`.

The shards are the service's: plan_shards (plan_index_shards) cuts the run, run_shard_spec
(run_index_shard_spec) plays each from the job's seed, and merge adds them in shard order,
as the service's merge does. So N processes give the bits of one process
(run_simulation_from_config, run_index_shards with jobs=1) and of a split job, whichever
worker plays which shard and in whatever order they finish. play_shards_parallel is the
pool both kinds of run share: it knows nothing of what a shard computes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import multiprocessing
import os
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from multiprocessing.context import BaseContext
from multiprocessing.sharedctypes import Synchronized
from multiprocessing.synchronize import Event
from types import FrameType
from typing import Any, Generic, TypeVar

from jost_engine.config import Config
from jost_engine.indices import (
    IndexRequest,
    IndexShard,
    IndexSums,
    run_index_shard,
    run_index_shard_spec,
)
from jost_engine.indices import merge as merge_index_sums
from jost_engine.simulate import (
    SHARD_ROUNDS,
    ShardSpec,
    merge,
    plan_shards,
    results,
    run_shard_spec,
)
from jost_engine.stats import Stats
from jost_engine.strategy import resolve_playing_strategy

Progress = Callable[[int, int], None]
# A run's shared input (a Config, an IndexRequest), a shard's spec, and what a shard returns.
W = TypeVar("W")
S = TypeVar("S")
R = TypeVar("R")

# How often the parent redraws progress, and looks for a signal, while the shards play.
PROGRESS_SECONDS = 0.1
# Shards submitted per worker at a time: the one it plays and the next.
QUEUED_PER_WORKER = 2
# The signals that stop a run: Ctrl-C, and a `timeout` or a supervisor's stop.
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def available_cores() -> int:
    """The cores this process may run on: its affinity mask (a container's cpuset, taskset),
    not every core of the machine, so the default --jobs never oversubscribes."""
    if sys.version_info >= (3, 13):
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def start_method() -> str:
    """fork where it is safe (Linux): a worker starts as a copy of this process, with numpy,
    numba, the engine and the "auto" chart already loaded, in milliseconds; a spawned
    worker imports them again and solves a chart no cache holds for itself (20 M rounds
    over two workers, in a warm process: a median of 1.4 s forked, 3.6 s spawned). No
    thread runs when the pool forks (concurrent.futures starts every forked worker
    before its own thread). macOS's system libraries are not fork-safe (Python's default
    there is spawn) and Windows has no fork: spawn there, which gives the same bits."""
    if sys.platform == "darwin" or "fork" not in multiprocessing.get_all_start_methods():
        return "spawn"
    return "fork"


class Interrupted(Exception):
    """A shard stopped because the run was interrupted (Ctrl-C, SIGTERM) or another shard
    failed."""


@dataclasses.dataclass(frozen=True)
class ShardPlayer(Generic[W, S, R]):
    """What a worker does with a shard: play(work, job seed, spec, report) -> the shard's
    part, report(units done in this shard) being called as it goes (an exception it
    raises stops the shard). `play` is a module-level function, so a spawned worker
    receives it by name."""

    play: Callable[[W, int, S, Callable[[int], None]], R]
    work: W
    seed: int


# Each worker's share of the run, set once by _start_worker.
_player: ShardPlayer[Any, Any, Any]
_done: Synchronized[int]
_stop: Event


def _start_worker(player: ShardPlayer[Any, Any, Any], done: Synchronized[int], stop: Event) -> None:
    global _player, _done, _stop
    _player, _done, _stop = player, done, stop
    # Ctrl-C at a terminal reaches the whole process group: the parent alone decides and
    # stops the shards through `stop`, so a worker never dies mid-shard with a traceback.
    # SIGTERM is the default's again (a forked worker inherits the parent's handler), for
    # _die_with_parent. The parent started this process with both blocked (_blocked), so
    # neither could arrive before this point.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    if sys.platform == "linux":
        _die_with_parent()


def _die_with_parent() -> None:
    """A parent killed outright (SIGKILL) cannot stop its workers; without this they would
    finish their shards and then wait forever for the next."""
    import ctypes

    pr_set_pdeathsig = 1
    # Best effort: a libc without prctl leaves the orphan case as it was.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _play(spec: Any) -> tuple[Any, float]:
    """One shard in a worker: its part and its seconds, as the service times a shard."""
    start = time.perf_counter()
    reported = 0

    def report(done: int) -> None:
        # The shard's function calls this after every chunk (about 0.1 s); an exception
        # stops the shard there, as a cancelled job's shard stops in the service.
        nonlocal reported
        with _done.get_lock():
            _done.value += done - reported
        reported = done
        if _stop.is_set():
            raise Interrupted

    part = _player.play(_player.work, _player.seed, spec, report)
    return part, time.perf_counter() - start


@contextmanager
def _noted(signals: list[int]) -> Iterator[None]:
    """SIGINT (Ctrl-C) and SIGTERM (a `timeout`, a supervisor) appended to `signals` instead
    of raised: a KeyboardInterrupt raised anywhere in the wait for the shards (say while
    concurrent.futures holds a future's lock) could leave the pool's shutdown waiting
    forever; the loop sees the note at its next turn and stops the shards. A second
    signal meets the handlers of before (KeyboardInterrupt; SIGTERM ends this process and
    its workers follow it, _die_with_parent)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread receives signals (and may set handlers)
        return
    before = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}

    def restore() -> None:
        for sig, handler in before.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)

    def note(signum: int, frame: FrameType | None) -> None:
        signals.append(signum)
        restore()

    for sig in STOP_SIGNALS:
        signal.signal(sig, note)
    try:
        yield
    finally:
        restore()


@contextmanager
def _blocked() -> Iterator[None]:
    """SIGINT and SIGTERM held back from this thread while the pool starts its workers: a
    worker inherits the mask (fork, and exec for spawn) and unblocks them only once it
    ignores SIGINT, so a Ctrl-C during its start cannot interrupt it. Held back, not
    lost: this process receives them when the block ends."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def play_shards_parallel(
    player: ShardPlayer[W, S, R],
    specs: Sequence[S],
    asked: int,
    jobs: int,
    progress: Progress | None = None,
    *,
    context: BaseContext | None = None,
) -> list[tuple[R, float]]:
    """Every shard of `specs` over min(jobs, shards) worker processes: each shard's part
    and seconds, in the order of `specs` whatever order they finished in.

    progress(units done, asked) is called about every PROGRESS_SECONDS, the units being
    what the shards report (rounds, shoes). Ctrl-C or SIGTERM stops every shard at its next
    chunk and raises KeyboardInterrupt once the workers have exited; a shard that fails
    stops the others and its exception is raised. Whatever the workers should inherit
    (a solved chart, a loaded kernel) the caller prepares before calling: with fork they
    start as copies of this process.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    ctx = context or multiprocessing.get_context(start_method())
    done: Synchronized[int] = ctx.Value("q", 0)
    stop = ctx.Event()
    workers = min(jobs, len(specs))
    parts: list[tuple[R, float] | None] = [None] * len(specs)
    queue = iter(enumerate(specs))
    running: dict[Future[tuple[R, float]], int] = {}
    signals: list[int] = []
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=ctx,
        initializer=_start_worker,
        initargs=(player, done, stop),
    )

    def top_up() -> None:
        # A window of shards, not the whole plan (up to a million of them): each worker
        # has its next shard queued, and an interrupted run has few to cancel.
        for index, spec in itertools.islice(queue, QUEUED_PER_WORKER * workers - len(running)):
            running[pool.submit(_play, spec)] = index

    try:
        with _noted(signals):
            with _blocked():
                top_up()  # starts the workers
            while running and not signals:
                finished, _ = wait(running, timeout=PROGRESS_SECONDS, return_when=FIRST_COMPLETED)
                for future in finished:
                    parts[running.pop(future)] = future.result()  # a shard's failure, now
                top_up()
                if progress is not None:
                    progress(done.value, asked)
            if signals:
                raise KeyboardInterrupt
    except BaseException:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    played = [part for part in parts if part is not None]
    assert len(played) == len(specs), "every shard played"
    return played


def _simulation_shard(
    config: Config, seed: int, spec: ShardSpec, report: Callable[[int], None]
) -> Stats:
    # run_shard_spec looked up when the shard plays, not when the pool starts, so a test
    # can put a failing one in its place.
    return run_shard_spec(config, seed, spec, report)


def run_shards_parallel(
    config: Config,
    job_seed: int,
    jobs: int,
    shard_rounds: int = SHARD_ROUNDS,
    progress: Progress | None = None,
    *,
    context: BaseContext | None = None,
) -> tuple[Stats, float]:
    """Every shard of the plan over min(jobs, shards) worker processes, merged in shard
    order, and the shards' seconds added up (the service's play_seconds).

    progress(rounds done, rounds asked) is called about every PROGRESS_SECONDS. Ctrl-C or
    SIGTERM stops every shard at its next chunk and raises KeyboardInterrupt once the
    workers have exited; a shard that fails stops the others and its exception is raised.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    specs = plan_shards(config, shard_rounds)
    asked = sum(spec.rounds for spec in specs)
    # Solved here once, before the fork: every worker inherits the chart instead of
    # reading it from the cache (or solving it) for itself.
    for player in config.players:
        resolve_playing_strategy(player.playing, config.rules)
    played = play_shards_parallel(
        ShardPlayer(_simulation_shard, config, job_seed),
        specs,
        asked,
        jobs,
        progress,
        context=context,
    )
    return merge(*(stats for stats, _ in played)), sum(seconds for _, seconds in played)


def run_simulation_parallel(
    config: Config,
    jobs: int,
    progress: Progress | None = None,
    *,
    rounds: int | None = None,
    seed: int | None = None,
    shard_rounds: int = SHARD_ROUNDS,
    context: BaseContext | None = None,
) -> dict[str, Any]:
    """run_simulation_from_config for a splittable config, its shards over `jobs` processes:
    the same document but for the timing fields. duration_seconds is the wall clock;
    play_seconds the shards' seconds added up, as a split job reports them, so
    rounds_per_second is the speed of one process."""
    if not config.splittable:
        raise ValueError("only a splittable config (stop_when_broke false, or sessions) splits")
    asked = int(rounds if rounds is not None else config.num_rounds)
    if seed is None:
        seed = config.seed if config.seed is not None else secrets.randbits(63)
    # As run_simulation_from_config: the document's config is what ran.
    cfg = dataclasses.replace(config, num_rounds=asked, seed=seed)
    start = time.perf_counter()
    merged, shard_seconds = run_shards_parallel(
        cfg, seed, jobs, shard_rounds, progress, context=context
    )
    return results(
        cfg,
        merged,
        seed=seed,
        duration=time.perf_counter() - start,
        play_seconds=shard_seconds,
        shards=len(plan_shards(cfg, shard_rounds)),
        shard_rounds=shard_rounds,
    )


def _index_shard(
    request: IndexRequest, seed: int, spec: IndexShard, report: Callable[[int], None]
) -> IndexSums:
    return run_index_shard_spec(request, seed, spec, report)


def run_index_shards(
    request: IndexRequest,
    specs: Sequence[IndexShard],
    jobs: int,
    progress: Progress | None = None,
    *,
    context: BaseContext | None = None,
) -> tuple[IndexSums, float]:
    """The shards `specs` of an index job (plan_index_shards, or a stretch of it) dealt
    from request.seed, merged in the order given, and their seconds added up.

    jobs=1 (or one shard) deals them in this process, more jobs over that many worker
    processes: the same bits, and those of the service's index job with the same seed and
    shard_shoes. progress(shoes done, shoes asked) is called as they go; Ctrl-C or SIGTERM
    stops every shard at its next chunk and raises KeyboardInterrupt.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    if not specs:
        raise ValueError("no shard to deal")
    asked = sum(spec.shoes for spec in specs)
    if jobs == 1 or len(specs) == 1:
        played = _index_shards_here(request, specs, asked, progress)
    else:
        # The chart solved and the kernel loaded (compiled, on a cold cache) here, once,
        # before the fork: the workers inherit both rather than each loading them, or
        # compiling them side by side. One shoe from another seed; its sums are dropped.
        run_index_shard(request, 0, 1)
        played = play_shards_parallel(
            ShardPlayer(_index_shard, request, request.seed),
            specs,
            asked,
            jobs,
            progress,
            context=context,
        )
    return merge_index_sums([sums for sums, _ in played]), sum(seconds for _, seconds in played)


def _index_shards_here(
    request: IndexRequest,
    specs: Sequence[IndexShard],
    asked: int,
    progress: Progress | None,
) -> list[tuple[IndexSums, float]]:
    """The shards one after another in this process, stopped as the pool stops them: a
    signal is noted and the shard stops at its next chunk, so SIGTERM ends this run as it
    ends one over processes (KeyboardInterrupt) instead of killing the process."""
    signals: list[int] = []
    played: list[tuple[IndexSums, float]] = []
    before = 0

    def report(done: int) -> None:
        if progress is not None:
            progress(before + done, asked)
        if signals:
            raise Interrupted

    with _noted(signals):
        try:
            for spec in specs:
                start = time.perf_counter()
                sums = run_index_shard_spec(request, request.seed, spec, report)
                played.append((sums, time.perf_counter() - start))
                before += spec.shoes
        except Interrupted:
            raise KeyboardInterrupt from None
    return played
