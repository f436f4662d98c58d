"""`"auto"` for a new rule set: the engine time of a 10,000-round job whose chart is not cached.

    .venv/bin/python bench/auto_speed.py [--before 7611f30] [--pairs 7] [--repeats 5]

The job (issue 16): 6 decks, H17, DAS, late surrender, split to 4 hands with resplit aces
(a rule set no casino ships), one player, flat bet, `"playing_strategy": "auto"`, 10,000
rounds. Each repeat runs the whole job with `run_simulation_from_config` in a warm process
(the engine imported, its numba code compiled or loaded, and one `"auto"` job on another
rule set already played) after emptying what would let it skip the solve: the chart's
memory cache and the disk cache (a new empty `JOST_CACHE_DIR` each repeat). The figure is
the job's wall time; this process's CPU time beside it is less sensitive to other work on
a shared machine.

Before and after run in the same invocation: the `--before` commit is exported with `git
archive` into a temporary directory, and worker processes of the two trees alternate,
`--pairs` times, each timing `--repeats` jobs; the medians are over every repeat of a tree.
`--parts` instead times the solver's steps in this tree for the same rule set (the minimum
of `--repeats`, CPU time): the hands' graph, the ten dealer passes, valuing the hands, and
the whole solve. `--spanish` times the Spanish 21 solver (jost_engine._spanish.solve) for
the shipped Spanish casinos' rules instead (CPU seconds, median and minimum of
`--repeats`, the first solve of the process apart). Results go in the "auto" section of
docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.commit_tree import export_tree  # noqa: E402

CASINO = {
    "name": "bench_6d_h17_das_ls_rsa",
    "deck_count": 6,
    "hit_on_soft_17": True,
    "DAS": True,
    "double_down_restrictions": ["any"],
    "allow_resplit_to_hands": 4,
    "allow_resplit_aces": True,
    "hit_split_aces": False,
    "allow_late_surrender": True,
    "allow_early_surrender": False,
    "blackjack_payout": "3:2",
    "reshuffle_penetration": 80,
    "offer_insurance": True,
    "dealer_checks_for_blackjack": True,
}
# The warm-up's rule set: another one no casino ships, so the solvers are compiled (or
# loaded from numba's cache) before the first timed job.
WARM_UP_CASINO = {**CASINO, "name": "bench_warm_up", "deck_count": 2, "hit_on_soft_17": False}


def job(casino: dict[str, object]) -> dict[str, object]:
    return {
        "casino": casino,
        "num_rounds": 10_000,
        "seed": 1,
        "players": [
            {
                "name": "bench",
                "bankroll": 1e9,
                "playing_strategy": "auto",
                "betting_strategy": {"name": "FlatBettingStrategy", "params": {"bet_amount": 10}},
            }
        ],
    }


def worker(tree: Path, repeats: int) -> dict[str, list[float]]:
    """Time `repeats` jobs of the tree at `tree`, each solving its chart afresh."""
    sys.path.insert(0, str(tree))
    from jost_engine import _basic_strategy
    from jost_engine.simulate import run_simulation_from_config

    os.environ["JOST_AUTO_CACHE"] = "on"
    with tempfile.TemporaryDirectory() as scratch:
        os.environ["JOST_CACHE_DIR"] = os.path.join(scratch, "warm-up")
        run_simulation_from_config(job(WARM_UP_CASINO))
        out: dict[str, list[float]] = {"wall": [], "cpu": []}
        for r in range(repeats):
            os.environ["JOST_CACHE_DIR"] = os.path.join(scratch, str(r))
            _basic_strategy._auto_for.cache_clear()
            wall, cpu = time.perf_counter(), time.process_time()
            result = run_simulation_from_config(job(CASINO))
            out["wall"].append(time.perf_counter() - wall)
            out["cpu"].append(time.process_time() - cpu)
            assert result["rounds_played"] == 10_000, result["rounds_played"]
    return out


def parts(repeats: int) -> dict[str, float]:
    """CPU seconds of the solver's steps for CASINO's rules (minimum of `repeats`)."""
    sys.path.insert(0, str(REPO))
    import numpy as np

    from jost_engine import _finite_shoe
    from jost_engine._basic_strategy import _strategy_key, solve
    from jost_engine._dealer import full_shoe
    from jost_engine.config import normalize_config

    rules = _strategy_key(normalize_config(job(CASINO)).rules)
    solve(rules)  # compiled, and the dealer programs of these rules built
    full = full_shoe(rules.decks)
    shoes = {up: full - np.eye(11, dtype=np.int64)[up] for up in range(1, 11)}
    hands, stand_only = _finite_shoe.starting_hands(rules, list(shoes.values()))
    expand = np.array([h not in stand_only for h in hands], dtype=np.bool_)
    r_total, r_soft, r_removed, graph = _finite_shoe._graph(full, hands, expand)
    counts, taken = _finite_shoe._composition_counts(graph[5])
    programs = {up: _finite_shoe.dealer_program(up, rules.hit_soft_17) for up in shoes}
    peek = rules.blackjack_takes_one_bet
    dealers = {
        up: _finite_shoe._dealer_batch(shoes[up], counts, taken, programs[up], peek) for up in shoes
    }

    def value() -> None:
        for up, shoe in shoes.items():
            _finite_shoe._value_hands(
                shoe,
                int(shoe.sum()),
                _finite_shoe._partner(rules, up),
                *graph[:5],
                dealers[up],
                r_total,
                r_soft,
                r_removed,
                expand,
                *graph[6:],
            )

    steps = {
        "graph": lambda: _finite_shoe._graph(full, hands, expand),
        "dealer passes": lambda: [
            _finite_shoe._dealer_batch(shoes[up], counts, taken, programs[up], peek) for up in shoes
        ],
        "valuing the hands": value,
        "whole solve": lambda: solve(rules),
    }
    out = {}
    for name, step in steps.items():
        best = float("inf")
        for _ in range(repeats):
            cpu = time.process_time()
            step()
            best = min(best, time.process_time() - cpu)
        out[name] = best
    print(f"{graph[0].size} hands in the graph, {graph[5].size} dealer compositions")
    return out


def spanish(repeats: int) -> dict[str, list[float]]:
    """CPU seconds of `repeats` Spanish 21 solves for each shipped Spanish casino."""
    sys.path.insert(0, str(REPO))
    from jost_engine import _spanish
    from jost_engine.config import normalize_config

    out: dict[str, list[float]] = {}
    for casino in ("spanish21_6d_h17", "spanish21_6d_h17_redouble", "spanish21_8d_s17"):
        config = {"casino": casino, "num_rounds": 1, "players": [{"playing_strategy": "auto"}]}
        rules = _spanish.strategy_key(normalize_config(config).rules)
        _spanish.solve(rules)  # the first solve of the process imports and warms up
        out[casino] = []
        for _ in range(repeats):
            cpu = time.process_time()
            _spanish.solve(rules)
            out[casino].append(time.process_time() - cpu)
    return out


def run_worker(tree: Path, repeats: int) -> dict[str, list[float]]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", str(tree), "--repeats", str(repeats)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tree,
    )
    result: dict[str, list[float]] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", default="7611f30", help="the commit to compare against")
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--parts", action="store_true", help="time the solver's steps")
    parser.add_argument("--spanish", action="store_true", help="time the Spanish 21 solver")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.spanish:
        for casino, seconds in spanish(args.repeats).items():
            print(
                f"{casino}: median {statistics.median(seconds) * 1000:.0f} ms CPU, "
                f"min {min(seconds) * 1000:.0f} ms ({len(seconds)} solves)"
            )
        return 0
    if args.parts:
        for name, seconds in parts(args.repeats).items():
            print(f"{name}: {seconds * 1000:.1f} ms")
        return 0
    if args.worker:
        print(json.dumps(worker(args.worker, args.repeats)))
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        trees = {f"before ({args.before})": export_tree(args.before, Path(scratch)), "after": REPO}
        times: dict[str, dict[str, list[float]]] = {k: {"wall": [], "cpu": []} for k in trees}
        for pair in range(args.pairs):
            for name, tree in trees.items():
                got = run_worker(tree, args.repeats)
                for key in ("wall", "cpu"):
                    times[name][key] += got[key]
                print(
                    f"pair {pair + 1} {name}: wall "
                    + ", ".join(f"{t:.3f}" for t in got["wall"])
                    + " s",
                    flush=True,
                )
    for name, t in times.items():
        print(
            f"{name}: median wall {statistics.median(t['wall']):.4f} s "
            f"(min {min(t['wall']):.4f}, max {max(t['wall']):.4f}), "
            f"median CPU {statistics.median(t['cpu']):.4f} s, {len(t['wall'])} jobs"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
