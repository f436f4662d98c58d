"""Generate the Illustrious 18 and Fab 4 for 6 decks S17 DAS LS, 80% penetration, Hi-Lo,
and print them beside the published values (tests/data/published_indices.json) as the
Markdown table docs/INDICES.md records.

    .venv/bin/python scripts/indices_vs_published.py [--shoes N] [--processes K] [--seed S]

The run is cut into shards (one per process, seeds SeedSequence(seed, spawn_key=(i,))),
merged in shard order, as a split job will do it. Prints the time, the states valued per
second per process, and each play's index, interval and agreement with the published one
(within the interval widened by the published index's rounding, 0.5).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jost_engine import _index_kernel as ik
from jost_engine.indices import (
    IndexRequest,
    IndexSums,
    index_results,
    merge,
    normalize_index_request,
    run_index_shard,
)

ROOT = Path(__file__).resolve().parents[1]
REQUEST = {
    "casino": {
        "parent": "vegas_6d_s17_das",
        "allow_late_surrender": True,
        "reshuffle_penetration": 80,
    },
    "plays": ["illustrious18", "fab4"],
}


def _shard(args: tuple[IndexRequest, int, int, int]) -> tuple[IndexSums, float]:
    request, seed, index, shoes = args
    run_index_shard(request, 0, 1)  # compile (or load the cache) outside the timing
    start = time.perf_counter()
    sums = run_index_shard(request, np.random.SeedSequence(seed, spawn_key=(index,)), shoes)
    return sums, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shoes", type=int, default=250_000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    request = normalize_index_request({**REQUEST, "seed": args.seed})
    per = [
        args.shoes // args.processes + (i < args.shoes % args.processes)
        for i in range(args.processes)
    ]
    start = time.perf_counter()
    with ProcessPoolExecutor(args.processes) as pool:
        parts = list(pool.map(_shard, [(request, args.seed, i, n) for i, n in enumerate(per)]))
    wall = time.perf_counter() - start
    total = merge([sums for sums, _ in parts])
    states = int(total.counters[:, ik.K_VALUED].sum())
    kernel = sum(seconds for _, seconds in parts)
    result = index_results(request, total)

    published = json.loads((ROOT / "tests" / "data" / "published_indices.json").read_text())
    rounding = published["rounding"]
    by_key = {
        (e["hand"], e["vs"], tuple(e["actions"]) if e["hand"] != "insurance" else ()): e
        for e in result["indices"]
    }
    print(
        f"{args.shoes:,} shoes, {args.processes} processes, seed {args.seed}: wall {wall:.1f} s "
        f"(kernel {kernel:.1f} s summed over processes); {states:,} play-states, "
        f"{states / kernel:,.0f} per second per process"
    )
    print()
    print("| play | actions | published | generated | 95% interval | +/- | agrees |")
    print("|---|---|---|---|---|---|---|")
    misses = 0
    for pub in published["illustrious18"] + published["fab4"]:
        key = (pub["hand"], pub["vs"], tuple(pub.get("actions", ())))
        got = by_key[key]
        if got["index"] is None:
            print(f"| {pub['hand']} v {pub['vs']} | | {pub['index']:+d} | {got['note']} | | | no |")
            misses += 1
            continue
        low, high = got["interval"]
        agrees = low - rounding <= pub["index"] <= high + rounding
        misses += not agrees
        actions = "/".join(pub.get("actions", ["decline", "insure"]))
        print(
            f"| {pub['hand']} v {pub['vs']} | {actions} | {pub['index']:+d} | "
            f"{got['index']:+.1f} | [{low:+.2f}, {high:+.2f}] | {(high - low) / 2:.2f} | "
            f"{'yes' if agrees else 'NO'} |"
        )
    print()
    print(f"{misses} of 22 outside interval + {rounding}")


if __name__ == "__main__":
    main()
