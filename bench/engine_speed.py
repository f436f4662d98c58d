"""Engine speed: rounds per second of the numba kernel, its JIT warm-up, and plain Python.

    .venv/bin/python bench/engine_speed.py [--rounds 10000000] [--repeats 5] [--python-rounds 200000]

The game (issue 3's benchmark): 6 decks, S17, DAS, split to 4 hands, no resplit of aces,
80% penetration, one player, flat bet, basic strategy (the shipped S17 chart). Each timing
is one kernel call on a fresh session after a warm-up call, so it is the compiled loop
alone on one core (the kernel is single-threaded); the figure is the median of the
repeats. Warm-up is measured in fresh subprocesses with the numba cache already written:
import time and the first `play` (cache load plus the first rounds). The pure-Python loop
(bench/pure_python_loop.py) plays the same game from the same action tables in the same
process, so the ratio compares like with like on a machine shared with other work.
Results go in the "## Engine" section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench import pure_python_loop  # noqa: E402
from jost_engine.config import normalize_config  # noqa: E402
from jost_engine.simulate import new_session  # noqa: E402

CONFIG = {
    "casino": {
        "name": "bench_6d_s17_das", "deck_count": 6, "hit_on_soft_17": False, "DAS": True,
        "double_down_restrictions": ["any"], "allow_resplit_to_hands": 4, "allow_resplit_aces": False,
        "hit_split_aces": False, "allow_late_surrender": False, "allow_early_surrender": False,
        "blackjack_payout": "3:2", "reshuffle_penetration": 80, "offer_insurance": True,
        "dealer_checks_for_blackjack": True,
    },
    "num_rounds": 10_000_000,
    "seed": 1,
    "players": [{"name": "bench", "bankroll": 1e15, "playing_strategy": "perfect_s17_basic_strategy",
                 "betting_strategy": {"name": "FlatBettingStrategy", "params": {"bet_amount": 10}}}],
}

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


def kernel_rate(rounds: int, repeats: int) -> list[float]:
    config = normalize_config(CONFIG)
    new_session(config, 0).play(10_000)  # compile or load the cache, outside the timing
    rates = []
    for r in range(repeats):
        session = new_session(config, r + 1)
        start = time.perf_counter()
        session.play(rounds)
        rates.append(rounds / (time.perf_counter() - start))
    return rates


def python_rate(rounds: int, repeats: int) -> tuple[list[float], float]:
    session = new_session(normalize_config(CONFIG), 1)
    act = session.act[0].tolist()
    rates, net = [], 0.0
    for r in range(repeats):
        start = time.perf_counter()
        _, net = pure_python_loop.play(rounds, act, seed=r + 1)
        rates.append(rounds / (time.perf_counter() - start))
    return rates, net / rounds


def warmup(repeats: int) -> list[dict[str, float]]:
    return [json.loads(subprocess.run([sys.executable, "-c", WARMUP_SCRIPT], capture_output=True,
                                      text=True, check=True, cwd=REPO).stdout) for _ in range(repeats)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--python-rounds", type=int, default=200_000)
    args = parser.parse_args()

    kernel = kernel_rate(args.rounds, args.repeats)
    py, py_ev = python_rate(args.python_rounds, args.repeats)
    warm = warmup(3)
    k_med, p_med = statistics.median(kernel), statistics.median(py)
    report = {
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "kernel_rounds_per_second": [round(x) for x in kernel],
        "kernel_median": round(k_med),
        "python_rounds_per_second": [round(x) for x in py],
        "python_median": round(p_med),
        "python_ev_per_unit": py_ev,
        "ratio_kernel_over_python": round(k_med / p_med, 1),
        "warmup_import_s": [round(w["import"], 3) for w in warm],
        "warmup_first_call_s": [round(w["first_call"], 3) for w in warm],
        "warmup_first_call_median_s": round(statistics.median(w["first_call"] for w in warm), 3),
        "warmup_total_median_s": round(statistics.median(w["import"] + w["first_call"] for w in warm), 3),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
