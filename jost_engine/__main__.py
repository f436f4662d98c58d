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

   python -m jost_engine indices REQUEST.json [--shoes N] [--seed S] [--jobs N]
                                 [--shard-shoes N] [--format table|json] [--out FILE]
                                 [--progress]

Generates index numbers for an index request (docs/INDICES.md): its shards
(plan_index_shards) dealt over --jobs processes and merged in shard order, so any --jobs
gives the bits of the service's index job with the same seed and --shard-shoes. The table
(one line per play) or the whole result document as JSON goes to stdout or FILE; the bar
counts shoes. A bad request, Ctrl-C and SIGTERM end it as they end a simulation (2, 130).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from jost_engine.config import MAX_ROUNDS, Config, ConfigError, normalize_config
from jost_engine.indices import (
    MAX_SHOES,
    SHARD_SHOES,
    IndexRequest,
    index_results,
    normalize_index_request,
    plan_index_shards,
)
from jost_engine.parallel import available_cores, run_index_shards, run_simulation_parallel
from jost_engine.simulate import SHARD_ROUNDS, plan_shards, run_simulation_from_config

EXIT_BAD_CONFIG = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a job stopped by Ctrl-C
# The most shards --shard-rounds may cut a run into, as many as a run of sessions may have:
# the plan is a list, and every shard costs a round trip to a worker.
MAX_SHARDS = 1_000_000


def _millions_per_second(rate: float) -> str:
    return f"{rate / 1e6:.1f} M/s"


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def progress_bar(
    stream: TextIO,
    width: int = 30,
    *,
    unit: str = "rounds",
    rate_text: Callable[[float], str] = _millions_per_second,
    time_left: bool = False,
) -> Callable[[int, int], None]:
    """A callback drawing `[#####.....]  45%  450,000 / 1,000,000 rounds  1.2 M/s` in place;
    with time_left, the time the rest takes at the rate so far after it."""
    start = time.perf_counter()

    def draw(done: int, asked: int) -> None:
        fraction = done / asked if asked else 1.0
        filled = int(width * fraction)
        rate = done / max(time.perf_counter() - start, 1e-9)
        line = (
            f"\r[{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%}  "
            f"{done:,} / {asked:,} {unit}  {rate_text(rate)}"
        )
        if time_left:
            # Padded so a shorter estimate overwrites the longer one drawn before it.
            left = _clock((asked - done) / rate) if rate > 0 else "--:--"
            line += f"  {left:>8} left"
        stream.write(line)
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
    # The index generator's kernel: one shoe of a play of each kind (insurance, a hand).
    from jost_engine.indices import normalize_index_request, run_index_shard

    start = time.perf_counter()
    request = normalize_index_request(
        {
            "casino": "master_casino",
            "plays": ["insurance", {"hand": "16", "vs": "10", "actions": ["H", "S"]}],
        }
    )
    run_index_shard(request, 0, 1)
    print(f"index kernel ready in {time.perf_counter() - start:.1f} s", file=sys.stderr)
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
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["indices"]:
        return indices_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m jost_engine",
        description="Run a blackjack simulation config. `python -m jost_engine indices "
        "REQUEST.json` generates index numbers instead (its --help; docs/INDICES.md).",
    )
    parser.add_argument(
        "config",
        type=Path,
        nargs="?",
        help="a JSON config in any JOST dialect (a file named `indices`: ./indices)",
    )
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


def _shoes_per_second(rate: float) -> str:
    return f"{rate:,.0f}/s"


def _signed(value: float | None, *, whole: bool = False) -> str:
    """-0.4, +3.0; with `whole`, a whole count without decimals (+3, as a player rounds)."""
    if value is None:
        return "-"
    value = float(value) + 0.0  # -0.0 reads +0.0
    return f"{value:+.0f}" if whole and value.is_integer() else f"{value:+.1f}"


def index_table(request: IndexRequest, doc: dict[str, Any], shard_shoes: int) -> str:
    """The result document as a person reads it: a line saying what was dealt, then one
    line per play (hand v up card, a->b, the index to 0.1 and as the player rounds,
    the 95% interval and its half-width, when b is played, the gain per 100 rounds and
    the risk-averse index where the document has them, and the note)."""
    plays: list[dict[str, Any]] = doc["indices"]
    # A column for what some play has: no gain without an index, no risk-averse index
    # without a bankroll in the request.
    gain = any(play.get("gain_per_100") is not None for play in plays)
    averse = any(play.get("risk_averse") for play in plays)
    counting = request.counting
    count = "running count" if request.running else f"true count ({counting.deck_estimation}"
    count += "" if request.running else f", {counting.true_count_rounding})"
    shards = len(plan_index_shards(request, shard_shoes))
    cut = f"{shards:,} shard{'s' * (shards != 1)} of {shard_shoes:,}"
    lines = [
        f"# {request.shoes:,} shoes in {cut}, seed {request.seed}; {counting.name} {count}; "
        f"{len(plays)} plays"
    ]
    header = ["play", "a->b", "index", "rounded", "95% interval", "+/-", "when"]
    header += ["gain/100"] * gain + ["risk-averse"] * averse + ["note"]
    rows = [header]
    for play in plays:
        hand = play["hand"] if play["hand"] == "insurance" else f"{play['hand']} v {play['vs']}"
        interval = play.get("interval")
        row = [
            hand,
            "->".join(play["actions"]),
            _signed(play.get("index")),
            _signed(play.get("index_rounded"), whole=True),
            "-" if interval is None else f"[{interval[0]:+.2f}, {interval[1]:+.2f}]",
            "-" if interval is None else f"{(interval[1] - interval[0]) / 2:.2f}",
            play.get("when") or "-",
        ]
        if gain:
            value = play.get("gain_per_100")
            row.append("-" if value is None else f"{value:.3f}")
        if averse:
            risk = play.get("risk_averse") or {}
            row.append(_signed(risk.get("index")))
        note = play.get("note") or ""
        if play.get("better"):
            note += f"; {play['better']} always"
        row.append(note)
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def _read_request(path: Path) -> Any:
    """The request file's JSON, or None after saying on stderr why it cannot be read."""
    try:
        return json.loads(path.read_text())
    except OSError as exc:
        print(f"{path}: {exc.strerror or exc}", file=sys.stderr)
    except json.JSONDecodeError as exc:
        print(f"{path}: not JSON: {exc}", file=sys.stderr)
    return None


def indices_main(argv: list[str]) -> int:
    """python -m jost_engine indices REQUEST.json: the index generator from the shell."""
    parser = argparse.ArgumentParser(
        prog="python -m jost_engine indices",
        description="Generate index numbers for a game and a counting system "
        "(the request's fields and the method: docs/INDICES.md).",
    )
    parser.add_argument(
        "request",
        type=Path,
        help="a JSON index request: casino, counting_strategy, plays, seed, shoes, ...",
    )
    parser.add_argument("--shoes", type=int, help="shoes to deal (overrides the request's)")
    parser.add_argument("--seed", type=int, help="seed (overrides the request's; its default 0)")
    parser.add_argument(
        "--jobs", type=int, help="processes for the shards (default: every core this may run on)"
    )
    parser.add_argument(
        "--shard-shoes",
        type=int,
        default=SHARD_SHOES,
        help=f"shoes per shard (default {SHARD_SHOES:,}, the service's); the seeds are per "
        "shard, so a job is reproduced with the shard_shoes it ran with",
    )
    parser.add_argument(
        "--format",
        choices=("table", "json"),
        default="table",
        help="table: one line per play (the default); json: the whole result document",
    )
    parser.add_argument("--out", type=Path, help="write the result here instead of stdout")
    parser.add_argument(
        "--progress",
        action="store_true",
        help="draw the progress bar even when stderr is not a terminal",
    )
    args = parser.parse_args(argv)

    raw = _read_request(args.request)
    if raw is None:
        return EXIT_BAD_CONFIG
    # The request's own bounds, so the shoes and seed that ran make a valid request.
    if args.shoes is not None and not 1 <= args.shoes <= MAX_SHOES:
        print(f"--shoes: must be 1..{MAX_SHOES}, got {args.shoes}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    if args.seed is not None and not 0 <= args.seed < 2**63:
        print(f"--seed: must be 0..{2**63 - 1}, got {args.seed}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    if args.jobs is not None and args.jobs < 1:
        print(f"--jobs: must be at least 1 (processes), got {args.jobs}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    if not 1 <= args.shard_shoes <= MAX_SHOES:
        print(f"--shard-shoes: must be 1..{MAX_SHOES}, got {args.shard_shoes}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    try:
        request = normalize_index_request(raw)
    except ConfigError as exc:
        print(f"{args.request}: the request cannot be run:", file=sys.stderr)
        for path, reason in exc.problems:
            print(f"  {path}: {reason}", file=sys.stderr)
        return EXIT_BAD_CONFIG
    if args.shoes is not None:
        request = dataclasses.replace(request, shoes=args.shoes)
    if args.seed is not None:
        request = dataclasses.replace(request, seed=args.seed)
    least = -(-request.shoes // MAX_SHARDS)
    if args.shard_shoes < least:
        print(
            f"--shard-shoes: {args.shard_shoes} would cut {request.shoes} shoes into more than "
            f"{MAX_SHARDS:,} shards; at least {least} here",
            file=sys.stderr,
        )
        return EXIT_BAD_CONFIG

    show = args.progress or sys.stderr.isatty()
    jobs = args.jobs if args.jobs is not None else available_cores()
    progress = (
        progress_bar(sys.stderr, unit="shoes", rate_text=_shoes_per_second, time_left=True)
        if show
        else None
    )
    try:
        total, _ = run_index_shards(
            request, plan_index_shards(request, args.shard_shoes), jobs, progress
        )
    except KeyboardInterrupt:
        print("\ninterrupted: stopped, no results written", file=sys.stderr)
        return EXIT_INTERRUPTED
    if show:
        sys.stderr.write("\n")
    doc = index_results(request, total)
    if args.format == "json":
        text = json.dumps(doc, indent=2, allow_nan=False)
    else:
        text = index_table(request, doc, args.shard_shoes)
    if args.out:
        args.out.write_text(text + "\n")
    else:
        sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
