"""python -m jost_engine config.json [--rounds N] [--seed S] [--jobs N] [--shard-rounds N]
                                    [--out FILE] [--progress]
   python -m jost_engine --warm-up

Runs one config and writes the results document as JSON (stdout, or FILE). A splittable
config (`"stop_when_broke": false`, or `"sessions": K`) plays its shards over --jobs
processes (default: the cores this process may use), the same bits as one process and as
the service's split job; any other config is one sequence and plays in this process,
saying so on stderr when more jobs were on offer. A progress bar goes to stderr when
stderr is a terminal (or with --progress). A config that cannot be run prints every
problem as `path: reason` and exits with status 2; Ctrl-C stops every worker and exits
with status 130.
--warm-up compiles the round loops and the "auto" solvers into numba's cache and exits:
compiling takes about 35 s, a cached load well under a second, so a deploy runs it once
before workers take jobs.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from jost_engine.config import MAX_ROUNDS, Config, ConfigError, normalize_config
from jost_engine.parallel import available_cores, run_simulation_parallel
from jost_engine.simulate import SHARD_ROUNDS, plan_shards, run_simulation_from_config

EXIT_BAD_CONFIG = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a job stopped by Ctrl-C
# The most shards --shard-rounds may cut a run into, as many as a run of sessions may have:
# the plan is a list, and every shard costs a round trip to a worker.
MAX_SHARDS = 1_000_000


def progress_bar(stream: TextIO, width: int = 30) -> Callable[[int, int], None]:
    """A callback drawing `[#####.....]  45%  450,000 / 1,000,000 rounds  1.2 M/s` in place."""
    start = time.perf_counter()

    def draw(done: int, asked: int) -> None:
        fraction = done / asked if asked else 1.0
        filled = int(width * fraction)
        rate = done / max(time.perf_counter() - start, 1e-9)
        stream.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%}  "
            f"{done:,} / {asked:,} rounds  {rate / 1e6:.1f} M/s"
        )
        stream.flush()

    return draw


def warm_up() -> int:
    """Compile (or load) both round loops and the solvers behind "auto", so the cache is
    written and no job pays for a compile."""
    from jost_engine import kernel
    from jost_engine._basic_strategy import _strategy_key, solve
    from jost_engine.simulate import new_session

    start = time.perf_counter()
    config = normalize_config(
        {
            "casino": "master_casino",
            "num_rounds": 1,
            "players": [
                {"profile": "master_player", "playing_strategy": "perfect_s17_basic_strategy"}
            ],
        }
    )
    s = new_session(config, 0)
    kernel.play_rounds(100, *s.kernel_arrays)
    kernel.play_rounds_solo(100, *s.kernel_arrays)
    print(f"kernel ready in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    # "auto" runs numba solvers of its own (the finite-shoe hand values and the dealer's
    # outcomes). One deck is the quickest shoe to solve and compiles the same functions
    # as any other; the infinite deck takes the other path. `solve`, not `auto_strategy`:
    # these casinos' charts are shipped, so looking them up would compile nothing, and the
    # first rule set a worker has no chart for would pay the compile.
    start = time.perf_counter()
    for casino in ("single_deck_6to5", "infinite_deck_s17_das"):
        auto = normalize_config(
            {"casino": casino, "num_rounds": 1, "players": [{"playing_strategy": "auto"}]}
        )
        solve(_strategy_key(auto.rules))
    print(f'"auto" solvers ready in {time.perf_counter() - start:.1f} s', file=sys.stderr)
    return 0


ONE_CORE = (
    'one core: "stop_when_broke": true without "sessions" is one session that ends when '
    "every player is broke, a sequence no shard can start in the middle of; "
    '"stop_when_broke": false or "sessions": K splits it over --jobs processes'
)


def _shards(config: Config, rounds: int | None, shard_rounds: int) -> int:
    """How many shards the run is cut into: 1 for a config that does not split."""
    if not config.splittable:
        return 1
    if rounds is not None:
        config = dataclasses.replace(config, num_rounds=rounds)
    return len(plan_shards(config, shard_rounds))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m jost_engine", description="Run a blackjack simulation config."
    )
    parser.add_argument("config", type=Path, nargs="?", help="a JSON config in any JOST dialect")
    parser.add_argument("--rounds", type=int, help="rounds to play (overrides num_rounds)")
    parser.add_argument("--seed", type=int, help="seed (overrides the config's; drawn if neither)")
    parser.add_argument(
        "--jobs",
        type=int,
        help="processes for a splittable config's shards (default: the cores this process "
        "may use); any other config plays on one core",
    )
    parser.add_argument(
        "--shard-rounds",
        type=int,
        default=SHARD_ROUNDS,
        help=f"rounds per shard of a splittable config (default {SHARD_ROUNDS:,}, the "
        "service's JOB_SHARD_ROUNDS default); the seeds are per shard, so a job is "
        "reproduced with the shard_rounds it ran with",
    )
    parser.add_argument("--out", type=Path, help="write the results here instead of stdout")
    parser.add_argument(
        "--progress",
        action="store_true",
        help="draw the progress bar even when stderr is not a terminal",
    )
    parser.add_argument(
        "--warm-up",
        action="store_true",
        help='compile the round loops and the "auto" solvers into the cache and exit',
    )
    args = parser.parse_args(argv)
    if args.warm_up:
        return warm_up()
    if args.config is None:
        parser.error("a config file is required (or --warm-up)")

    try:
        raw = json.loads(args.config.read_text())
    except OSError as exc:
        print(f"{args.config}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    except json.JSONDecodeError as exc:
        print(f"{args.config}: not JSON: {exc}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    # The same bounds as the config's own fields, so the document's config (which carries
    # the rounds and seed that ran) normalises again and reproduces the run.
    if args.rounds is not None and not 1 <= args.rounds <= MAX_ROUNDS:
        print(f"--rounds: must be 1..{MAX_ROUNDS}, got {args.rounds}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    if args.seed is not None and not 0 <= args.seed < 2**63:
        print(f"--seed: must be 0..{2**63 - 1}, got {args.seed}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    if args.jobs is not None and args.jobs < 1:
        print(f"--jobs: must be at least 1 (processes), got {args.jobs}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    if not 1 <= args.shard_rounds <= MAX_ROUNDS:
        print(f"--shard-rounds: must be 1..{MAX_ROUNDS}, got {args.shard_rounds}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    try:
        config = normalize_config(raw)
    except ConfigError as exc:
        print(f"{args.config}: the config cannot be run:", file=sys.stderr)
        for path, reason in exc.problems:
            print(f"  {path}: {reason}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    rounds = args.rounds if args.rounds is not None else config.num_rounds
    if config.sessions is None and not config.stop_when_broke:
        least = -(-rounds // MAX_SHARDS)
        if args.shard_rounds < least:
            print(
                f"--shard-rounds: {args.shard_rounds} would cut {rounds} rounds into more than "
                f"{MAX_SHARDS:,} shards; at least {least} here",
                file=sys.stderr,
            )
            return EXIT_BAD_CONFIG

    show = args.progress or sys.stderr.isatty()
    jobs = args.jobs if args.jobs is not None else available_cores()
    if jobs > 1 and not config.splittable:
        print(ONE_CORE, file=sys.stderr)
    progress = progress_bar(sys.stderr) if show else None
    try:
        if jobs > 1 and _shards(config, args.rounds, args.shard_rounds) > 1:
            doc = run_simulation_parallel(
                config,
                jobs,
                progress,
                rounds=args.rounds,
                seed=args.seed,
                shard_rounds=args.shard_rounds,
            )
        else:
            doc = run_simulation_from_config(
                config,
                progress=progress,
                rounds=args.rounds,
                seed=args.seed,
                shard_rounds=args.shard_rounds,
            )
    except KeyboardInterrupt:
        print("\ninterrupted: stopped, no results written", file=sys.stderr)
        return EXIT_INTERRUPTED
    if show:
        sys.stderr.write("\n")  # end the bar's line, also when every player went broke early
    text = json.dumps(doc, indent=2, allow_nan=False)
    if args.out:
        args.out.write_text(text + "\n")
    else:
        sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
