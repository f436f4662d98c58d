"""python -m jost_engine config.json [--rounds N] [--seed S] [--out FILE] [--progress]
   python -m jost_engine --warm-up

Runs one config in this process and writes the results document as JSON (stdout, or FILE).
A progress bar goes to stderr when stderr is a terminal (or with --progress). A config
that cannot be run prints every problem as `path: reason` and exits with status 2.
--warm-up compiles the round loops and the "auto" solvers into numba's cache and exits:
compiling takes about 35 s, a cached load well under a second, so a deploy runs it once
before workers take jobs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from jost_engine.config import MAX_ROUNDS, ConfigError, normalize_config
from jost_engine.simulate import run_simulation_from_config

EXIT_BAD_CONFIG = 2


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m jost_engine", description="Run a blackjack simulation config."
    )
    parser.add_argument("config", type=Path, nargs="?", help="a JSON config in any JOST dialect")
    parser.add_argument("--rounds", type=int, help="rounds to play (overrides num_rounds)")
    parser.add_argument("--seed", type=int, help="seed (overrides the config's; drawn if neither)")
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
    try:
        config = normalize_config(raw)
    except ConfigError as exc:
        print(f"{args.config}: the config cannot be run:", file=sys.stderr)
        for path, reason in exc.problems:
            print(f"  {path}: {reason}", file=sys.stderr)
        return EXIT_BAD_CONFIG

    show = args.progress or sys.stderr.isatty()
    doc = run_simulation_from_config(
        config,
        progress=progress_bar(sys.stderr) if show else None,
        rounds=args.rounds,
        seed=args.seed,
    )
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
