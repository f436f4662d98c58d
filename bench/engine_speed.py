"""Engine speed: rounds per second of the numba kernel, its JIT warm-up, and plain Python.

    .venv/bin/python bench/engine_speed.py \
        [--rounds 10000000] [--repeats 5] [--python-rounds 200000]

The game (issue 3's benchmark): 6 decks, S17, DAS, split to 4 hands, no resplit of aces,
80% penetration, one player, flat bet, basic strategy (the shipped S17 chart). Each timing
is one kernel call on a fresh session after a warm-up call, so it is the compiled loop
alone on one core (the kernel is single-threaded); the figure is the median of the
repeats, by the wall clock and (less sensitive to other work on a shared machine) by this
process's CPU time. Warm-up is measured in fresh subprocesses with the numba cache already written:
import time and the first `play` (cache load plus the first rounds). The pure-Python loop
(bench/pure_python_loop.py) plays the same game from the same action tables in the same
process, interleaved with the kernel repeat by repeat; the ratio is the median of the
paired ratios, so both sides of each ratio saw the same machine load.
It also times the general loop (several players or spots, hand log, insurance) on the same
game, the one-spot loop with a Hi-Lo bet ramp, and issue 10's counter (Hi-Lo, 1-12 ramp,
I18 + Fab 4, wonging out below -1, 6D S17 DAS LS), 3 repeats of half the rounds each.
It also times what bankroll_path costs: run_simulation_from_config (which ends kernel
calls on the path's up to 1,000 rounds) against the same session played in plain chunks
(`--bankroll-path-only` runs just that).
Results go in the "## Engine" section of docs/BENCHMARKS.md.

    .venv/bin/python bench/engine_speed.py --ab COMMIT [--pairs 15] [--ab-rounds 4000000]

is a same-run A/B of this tree's kernel against COMMIT's (exported with `git archive` to
a temporary directory): fresh processes of the two trees alternate (old first in odd
pairs, new first in even ones), each timing one kernel call per game (GAMES: flat, the
general loop, the Hi-Lo ramp, the counter) after a warm-up; the report gives each side's
median and the median of the paired ratios new / old, per game.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import pure_python_loop  # noqa: E402
from bench.commit_tree import export_tree  # noqa: E402
from jost_engine.config import normalize_config  # noqa: E402
from jost_engine.simulate import new_session  # noqa: E402

CONFIG = {
    "casino": {
        "name": "bench_6d_s17_das",
        "deck_count": 6,
        "hit_on_soft_17": False,
        "DAS": True,
        "double_down_restrictions": ["any"],
        "allow_resplit_to_hands": 4,
        "allow_resplit_aces": False,
        "hit_split_aces": False,
        "allow_late_surrender": False,
        "allow_early_surrender": False,
        "blackjack_payout": "3:2",
        "reshuffle_penetration": 80,
        "offer_insurance": True,
        "dealer_checks_for_blackjack": True,
    },
    "num_rounds": 10_000_000,
    "seed": 1,
    "players": [
        {
            "name": "bench",
            "bankroll": 1e12,
            "playing_strategy": "perfect_s17_basic_strategy",
            "betting_strategy": {"name": "FlatBettingStrategy", "params": {"bet_amount": 10}},
        }
    ],
}

RAMP = {"-Infinity": 1, "1": 2, "2": 4, "3": 8, "4": 12}
# The one-spot loop with a Hi-Lo bet ramp (1-2-4-8-12 units at true counts below 1, 1, 2, 3, 4).
RAMP_CONFIG = {
    **CONFIG,
    "players": [
        {
            **CONFIG["players"][0],
            "counting_strategy": "hilo",
            "betting_strategy": {"name": "ramp", "min_bet": 10, "bet_ramp": RAMP},
        }
    ],
}
# Issue 10's counter: Hi-Lo, a 1-12 ramp, I18 + Fab 4, wonging out below -1, on the same
# shoe with late surrender (6D S17 DAS LS).
COUNTER_CONFIG = {
    **CONFIG,
    "casino": {**CONFIG["casino"], "allow_late_surrender": True},
    "players": [
        {
            **CONFIG["players"][0],
            "counting_strategy": "hilo",
            "playing_strategy": {"strategy": "auto", "deviations": ["illustrious18", "fab4"]},
            "betting_strategy": {
                "name": "counter",
                "min_bet": 10,
                "bet_ramp": RAMP,
                "wong_out": -1,
            },
        }
    ],
}
# (name, config, the kernel's round loop that plays it): the flat game in the one-spot
# loop, the same game in the general loop (several players or spots, hand log, insurance),
# the Hi-Lo ramp and the counter.
GAMES = (
    ("flat", CONFIG, "play_rounds_solo"),
    ("general_loop", CONFIG, "play_rounds"),
    ("hilo_ramp", RAMP_CONFIG, "play_rounds_solo"),
    ("counter_i18_fab4_wong", COUNTER_CONFIG, "play_rounds_solo"),
)

# One side of an A/B: the tree on sys.path, one kernel call per game after a warm-up.
# Only `new_session`, `Session.kernel_arrays` and the loops' (rounds, *kernel_arrays)
# calls are used, which every tree since the solo loop has.
AB_SCRIPT = """
import json, sys, time
tree, games, rounds = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
sys.path.insert(0, tree)
from jost_engine import kernel
from jost_engine.config import normalize_config
from jost_engine.simulate import new_session
out = {}
for name, raw, loop_name in games:
    config, loop = normalize_config(raw), getattr(kernel, loop_name)
    warm = new_session(config, 0)
    loop(10_000, *warm.kernel_arrays)
    arrays = new_session(config, 1).kernel_arrays
    wall, cpu = time.perf_counter(), time.process_time()
    loop(rounds, *arrays)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    out[name] = {"wall": rounds / wall, "cpu": rounds / cpu}
print(json.dumps(out))
"""

WARMUP_SCRIPT = f"""
import time, json, sys
t0 = time.perf_counter()
sys.path.insert(0, {str(REPO)!r})
from bench.engine_speed import CONFIG
from jost_engine.config import normalize_config
from jost_engine.simulate import new_session
t1 = time.perf_counter()
session = new_session(normalize_config(CONFIG), 1)
session.play(1000)
t2 = time.perf_counter()
print(json.dumps({{"import": t1 - t0, "first_call": t2 - t1}}))
"""


def timed(play) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    play()
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(rounds: int, python_rounds: int, repeats: int) -> dict[str, list[float]]:
    """Kernel and pure-Python rounds/s, interleaved repeat by repeat so that both see the
    same machine load and each repeat gives a paired ratio."""
    config = normalize_config(CONFIG)
    new_session(config, 0).play(10_000)  # compile or load the cache, outside the timing
    act = new_session(config, 0).players.act[0].tolist()
    out: dict[str, list[float]] = {
        "kernel_wall": [],
        "kernel_cpu": [],
        "python_wall": [],
        "ratio": [],
        "python_ev": [],
    }
    for r in range(repeats):
        session = new_session(config, r + 1)
        wall, cpu = timed(lambda session=session: session.play(rounds))
        out["kernel_wall"].append(rounds / wall)
        out["kernel_cpu"].append(rounds / cpu)
        result: list[float] = []
        py_wall, _ = timed(
            lambda result=result, r=r: result.append(
                pure_python_loop.play(python_rounds, act, seed=r + 1)[1]
            )
        )
        out["python_wall"].append(python_rounds / py_wall)
        out["python_ev"].append(result[0] / python_rounds)
        out["ratio"].append(out["kernel_wall"][-1] / out["python_wall"][-1])
    return out


def other_loops(rounds: int, repeats: int) -> dict[str, float]:
    """Median rounds/s (wall) of the general loop (several players or spots, hand log,
    insurance) on the same game, and of the one-spot loop with a Hi-Lo bet ramp."""
    from jost_engine import kernel

    out = {}
    for name, raw, loop_name in GAMES[1:]:
        config, loop = normalize_config(raw), getattr(kernel, loop_name)
        rates = []
        for r in range(repeats + 1):
            s = new_session(config, r)
            arrays = s.kernel_arrays
            n = 10_000 if r == 0 else rounds  # the first call is a warm-up
            wall, _ = timed(lambda loop=loop, n=n, arrays=arrays: loop(n, *arrays))
            if r:
                rates.append(n / wall)
        out[name] = round(statistics.median(rates))
    return out


def bankroll_path_cost(rounds: int, repeats: int) -> dict[str, list[float]]:
    """Rounds/s of the loop run_simulation_from_config ran before bankroll_path (the
    session played in CHUNK_ROUNDS calls, nothing read between them) and of
    run_simulation_from_config itself (its `play_seconds`, which holds the up to 1,000
    extra kernel calls that end on the path's rounds and the reads there), interleaved
    repeat by repeat on the same config and seeds."""
    from jost_engine.simulate import CHUNK_ROUNDS, run_simulation_from_config

    config = normalize_config(CONFIG)
    new_session(config, 0).play(10_000)  # compile or load the cache, outside the timing
    out: dict[str, list[float]] = {"chunks_only": [], "with_path": []}
    for r in range(repeats):
        session = new_session(config, r + 1)

        def chunks(session=session) -> None:
            done = 0
            while done < rounds:
                step = min(CHUNK_ROUNDS, rounds - done)
                session.play(step)
                done += step

        wall, _ = timed(chunks)
        out["chunks_only"].append(rounds / wall)
        document = run_simulation_from_config(config, rounds=rounds, seed=r + 1)
        assert len(document["players"][0]["bankroll_path"]) == min(rounds + 1, 1000)
        out["with_path"].append(rounds / document["play_seconds"])
    return out


def ab_side(tree: Path, rounds: int) -> dict[str, dict[str, float]]:
    """One process of `tree` timing one call of each game (rounds/s, wall and CPU)."""
    games = json.dumps([list(game) for game in GAMES])
    done = subprocess.run(
        [sys.executable, "-c", AB_SCRIPT, str(tree), games, str(rounds)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tree,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def ab(commit: str, pairs: int, rounds: int) -> dict[str, Any]:
    """Paired A/B of COMMIT's kernel (old) against this tree's (new), alternating."""
    med = statistics.median
    with tempfile.TemporaryDirectory(prefix="engine-ab-") as tmp:
        old = export_tree(commit, Path(tmp))
        for tree in (old, REPO):  # compile or load each tree's numba cache, untimed
            ab_side(tree, 10_000)
        runs: list[tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]] = []
        for i in range(pairs):
            if i % 2 == 0:
                before = ab_side(old, rounds)
                after = ab_side(REPO, rounds)
            else:
                after = ab_side(REPO, rounds)
                before = ab_side(old, rounds)
            runs.append((before, after))
            print(f"pair {i + 1}/{pairs}", file=sys.stderr)
    report: dict[str, Any] = {
        "commit_before": commit,
        "pairs": pairs,
        "rounds_per_call": rounds,
        "load_average_at_end": os.getloadavg(),
    }
    for name, _, _ in GAMES:
        for clock in ("wall", "cpu"):
            b = [before[name][clock] for before, _ in runs]
            a = [after[name][clock] for _, after in runs]
            report[f"{name}_{clock}"] = {
                "before_median_M": round(med(b) / 1e6, 2),
                "after_median_M": round(med(a) / 1e6, 2),
                "paired_ratio_after_over_before_median": round(
                    med(x / y for x, y in zip(a, b, strict=True)), 3
                ),
                "paired_ratios": [round(x / y, 3) for x, y in zip(a, b, strict=True)],
            }
    return report


def warmup(repeats: int) -> list[dict[str, float]]:
    return [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", WARMUP_SCRIPT],
                capture_output=True,
                text=True,
                check=True,
                cwd=REPO,
            ).stdout
        )
        for _ in range(repeats)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--python-rounds", type=int, default=200_000)
    parser.add_argument(
        "--bankroll-path-only",
        action="store_true",
        help="time only the cost of bankroll_path (run_simulation_from_config vs. plain chunks)",
    )
    parser.add_argument("--ab", metavar="COMMIT", help="paired A/B against COMMIT's kernel")
    parser.add_argument("--pairs", type=int, default=15)
    parser.add_argument("--ab-rounds", type=int, default=4_000_000)
    args = parser.parse_args()
    if args.ab:
        print(json.dumps(ab(args.ab, args.pairs, args.ab_rounds), indent=2))
        return
    med = statistics.median
    path = bankroll_path_cost(args.rounds, args.repeats)
    path_report = {
        "chunks_only_rounds_per_second_wall": [round(x) for x in path["chunks_only"]],
        "with_bankroll_path_rounds_per_second_wall": [round(x) for x in path["with_path"]],
        "chunks_only_median_wall": round(med(path["chunks_only"])),
        "with_bankroll_path_median_wall": round(med(path["with_path"])),
    }
    if args.bankroll_path_only:
        print(json.dumps(path_report, indent=2))
        return

    m = measure(args.rounds, args.python_rounds, args.repeats)
    others = other_loops(args.rounds // 2, 3)
    warm = warmup(3)
    report = {
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "load_average_at_end": os.getloadavg(),
        "kernel_rounds_per_second_wall": [round(x) for x in m["kernel_wall"]],
        "kernel_median_wall": round(med(m["kernel_wall"])),
        "kernel_median_cpu": round(med(m["kernel_cpu"])),
        "python_rounds_per_second_wall": [round(x) for x in m["python_wall"]],
        "python_median_wall": round(med(m["python_wall"])),
        "python_ev_per_unit": [round(x, 4) for x in m["python_ev"]],
        "ratio_kernel_over_python_paired_median": round(med(m["ratio"]), 1),
        "general_loop_median_wall": others["general_loop"],
        "hilo_ramp_median_wall": others["hilo_ramp"],
        "counter_i18_fab4_wong_median_wall": others["counter_i18_fab4_wong"],
        **path_report,
        "warmup_import_s": [round(w["import"], 3) for w in warm],
        "warmup_first_call_s": [round(w["first_call"], 3) for w in warm],
        "warmup_first_call_median_s": round(med(w["first_call"] for w in warm), 3),
        "warmup_import_plus_first_call_median_s": round(
            med(w["import"] + w["first_call"] for w in warm), 3
        ),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
