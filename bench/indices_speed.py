"""Issue 17's speed target: the 22 plays of the Illustrious 18 and Fab 4 (6 decks, S17,
DAS, late surrender, 80% penetration, Hi-Lo) each to a 95% interval of +/-0.5 true count,
on two processes.

    .venv/bin/python bench/indices_speed.py [--processes 2] [--target 0.5] [--first 20000]
        [--cap 1280000] [--growth 1.5] [--shard-shoes 5000] [--seed 17] [--repeats 3]
        [--markdown] [--json FILE]

Not a test; never run by pytest. Two parts, both through the CLI's own path
(jost_engine.parallel.run_index_shards: the service's shards, dealt over --processes
worker processes and merged in shard order):

- **Speed**: --repeats runs of --first shoes from the same seed; the medians of the wall
  time, of the shoes per second over all processes, and of the play-states valued per
  second per process (states / the shards' seconds added up). A play-state is one play
  valued at one shoe state (the two actions played on the same later cards).
- **Rounds**: --first shoes, then --growth times the total each round (20,000, 30,000,
  45,000, 70,000, ..., whole shards; 1.5 overshoots the target by less than doubling), the
  new shards continuing the plan of a run of the new total (shard indices go on, so
  round k holds the shoes of `python -m jost_engine indices REQUEST --shoes TOTAL` with
  the same seed and --shard-shoes; its sums are added in another order, so they agree to
  the last bits of a float, not bitwise), until every play that has an index has an
  interval half-width <= --target, or --cap shoes. After each round: the widest play and
  its half-width, the cumulative wall time, the plays still without a crossing.

Then what the interval costs: the half-width falls about as 1 / sqrt(shoes), so the shoes
a half-width h needs are the last total x (widest / h)^2, timed at the rounds' rate (wall
clock) and on idle cores (the processes' CPU time, which other work on the shared machine
does not inflate); a width the rounds reached is also given as measured: the first round
from which on every round was within it (the widest play's half-width need not fall at
every round). Prints one JSON document, or with --markdown the tables of
docs/BENCHMARKS.md, "Index numbers" (--json FILE keeps the document as well). The load
average at the start is in both.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jost_engine.indices import (
    IndexRequest,
    IndexSums,
    index_results,
    normalize_index_request,
    plan_index_shards,
    run_index_shard,
)
from jost_engine.parallel import run_index_shards

REQUEST: dict[str, Any] = {
    "casino": {
        "deck_count": 6,
        "hit_on_soft_17": False,
        "allow_double_after_split": True,
        "allow_late_surrender": True,
        "reshuffle_penetration": 0.8,
    },
    "counting_strategy": "hilo",
    "plays": ["illustrious18", "fab4"],
}
WIDTHS = (1.0, 0.5, 0.25)  # the half-widths whose cost is reported


def play_name(entry: dict[str, Any]) -> str:
    if entry["hand"] == "insurance":
        return "insurance"
    return f"{entry['hand']} v {entry['vs']} {'->'.join(entry['actions'])}"


def half_widths(doc: dict[str, Any]) -> dict[str, float | None]:
    """Each play's interval half-width; None for a play with no index (no crossing, or
    one that never changes within the counts reached)."""
    out: dict[str, float | None] = {}
    for entry in doc["indices"]:
        interval = entry.get("interval")
        out[play_name(entry)] = None if interval is None else (interval[1] - interval[0]) / 2
    return out


def cpu_seconds() -> float:
    """CPU time of this process and of its children that have exited (the pool's workers,
    once it has shut down and joined them)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def deal(
    request: IndexRequest, shoes: int, processes: int, shard_shoes: int, start: int = 0
) -> tuple[IndexSums, float, float, float]:
    """The shards of a run of `shoes` shoes from shard index `start` on: their sums, the
    wall time, the shards' seconds added up, and the CPU seconds (which other work on a
    shared machine does not inflate, as it does the other two)."""
    specs = plan_index_shards(dataclasses.replace(request, shoes=shoes), shard_shoes)[start:]
    began, cpu = time.perf_counter(), cpu_seconds()
    sums, seconds = run_index_shards(request, specs, processes)
    return sums, time.perf_counter() - began, seconds, cpu_seconds() - cpu


def states(doc: dict[str, Any]) -> int:
    return sum(int(entry["states"]) for entry in doc["indices"])


def speed(request: IndexRequest, args: argparse.Namespace) -> dict[str, Any]:
    runs = []
    for _ in range(args.repeats):
        sums, wall, seconds, cpu = deal(request, args.first, args.processes, args.shard_shoes)
        valued = states(index_results(dataclasses.replace(request, shoes=args.first), sums))
        runs.append(
            {
                "wall_seconds": wall,
                "cpu_seconds": cpu,
                "shoes_per_second": args.first / wall,
                "shoes_per_cpu_second": args.first / cpu,
                "states_per_second_per_process": valued / seconds,
                "states_per_cpu_second": valued / cpu,
                "states": valued,
            }
        )
    return {
        "shoes": args.first,
        "repeats": args.repeats,
        **{
            f"median_{key}": statistics.median(run[key] for run in runs)
            for key in (
                "wall_seconds",
                "shoes_per_second",
                "shoes_per_cpu_second",
                "states_per_second_per_process",
                "states_per_cpu_second",
            )
        },
        "states_per_shoe": runs[0]["states"] / args.first,
        "runs": runs,
    }


def rounds(request: IndexRequest, args: argparse.Namespace) -> dict[str, Any]:
    total_sums: IndexSums | None = None
    total, dealt, wall, seconds, cpu = args.first, 0, 0.0, 0.0, 0.0
    log: list[dict[str, Any]] = []
    while True:
        # The shards a run of `total` shoes adds to those already dealt.
        sums, round_wall, round_seconds, round_cpu = deal(
            request, total, args.processes, args.shard_shoes, start=dealt // args.shard_shoes
        )
        total_sums = sums if total_sums is None else total_sums.merge(sums)
        wall += round_wall
        seconds += round_seconds
        cpu += round_cpu
        doc = index_results(dataclasses.replace(request, shoes=total), total_sums)
        widths = half_widths(doc)
        indexed = {name: w for name, w in widths.items() if w is not None}
        widest = max(indexed, key=lambda name: indexed[name])
        entry = {
            "shoes": total,
            "wall_seconds": round(wall, 2),
            "process_seconds": round(seconds, 2),
            "cpu_seconds": round(cpu, 2),
            "widest": widest,
            "widest_half_width": round(indexed[widest], 3),
            "without_index": [
                f"{play_name(e)}: {e['note']}" for e in doc["indices"] if e["index"] is None
            ],
        }
        log.append(entry)
        print(
            f"{total:>9,} shoes  {wall:7.1f} s  widest {widest} +/-{indexed[widest]:.2f}  "
            f"{len(entry['without_index'])} without an index",
            file=sys.stderr,
        )
        dealt = total
        if indexed[widest] <= args.target or total >= args.cap:
            break
        grown = round(args.growth * total / args.shard_shoes) * args.shard_shoes
        total = min(max(grown, total + args.shard_shoes), args.cap)
    rate = total / wall  # shoes per second of wall time, over every round
    # The same on idle cores: every process busy all the time at the CPU-time rate.
    idle_rate = args.processes * total / cpu
    second = sorted(indexed.values())[-2]
    costs = []
    for h in WIDTHS:
        shoes = total * (indexed[widest] / h) ** 2
        # The first round from which on every round was within h (the widest play's
        # half-width need not fall at every round: the fit may move to another window).
        within = [r["widest_half_width"] <= h for r in log]
        measured = next((r for i, r in enumerate(log) if all(within[i:])), None)
        costs.append(
            {
                "half_width": h,
                "shoes_extrapolated": round(shoes),
                "seconds_extrapolated": round(shoes / rate, 1),
                "seconds_extrapolated_idle": round(shoes / idle_rate, 1),
                "measured_shoes": measured and measured["shoes"],
                "measured_seconds": measured and measured["wall_seconds"],
            }
        )
    return {
        "target": args.target,
        "reached": indexed[widest] <= args.target,
        "rounds": log,
        "shoes": total,
        "wall_seconds": round(wall, 2),
        "shoes_per_second": round(rate),
        "cpu_seconds": round(cpu, 2),
        "shoes_per_second_idle": round(idle_rate),
        "half_widths": {name: None if w is None else round(w, 3) for name, w in widths.items()},
        "indices": {play_name(e): e["index"] for e in doc["indices"]},
        "widest": widest,
        # What the budget would be were it not for the widest play.
        "second_widest_shoes_for_target": round(total * (second / args.target) ** 2),
        "cost": costs,
    }


def markdown(result: dict[str, Any]) -> str:
    s, r = result["speed"], result["rounds"]
    lines = [
        f"Speed, {s['shoes']:,} shoes on {result['processes']} processes, median of "
        f"{s['repeats']}: {s['median_wall_seconds']:.1f} s, "
        f"{s['median_shoes_per_second']:,.0f} shoes/s, "
        f"{s['median_states_per_second_per_process'] / 1e6:.2f} M play-states per second of "
        f"each process's wall time, {s['median_states_per_cpu_second'] / 1e6:.2f} M per CPU "
        f"second ({s['states_per_shoe']:.0f} play-states a shoe); load average at the start "
        f"{result['load_average']:.2f}.",
        "",
        "| shoes (total) | wall (cumulative) | CPU (cumulative) | widest play | its +/- "
        "| plays without an index |",
        "|---|---|---|---|---|---|",
    ]
    for row in r["rounds"]:
        lines.append(
            f"| {row['shoes']:,} | {row['wall_seconds']:.1f} s | {row['cpu_seconds']:.1f} s | "
            f"{row['widest']} | {row['widest_half_width']:.2f} | {len(row['without_index'])} |"
        )
    lines += [
        "",
        f"Over every round: {r['shoes_per_second']:,} shoes/s of wall time, "
        f"{r['shoes_per_second_idle']:,} on {result['processes']} idle cores (CPU time).",
        "",
        "| half-width | shoes (from the last round) | time at the rounds' rate | on idle cores "
        "| measured (from this round on, every round within it) |",
        "|---|---|---|---|---|",
    ]
    for c in r["cost"]:
        measured = (
            f"{c['measured_shoes']:,} shoes, {c['measured_seconds']:.1f} s"
            if c["measured_shoes"]
            else "-"
        )
        lines.append(
            f"| +/-{c['half_width']} | {c['shoes_extrapolated']:,} | "
            f"{c['seconds_extrapolated']:.0f} s | {c['seconds_extrapolated_idle']:.0f} s | "
            f"{measured} |"
        )
    lines += ["", "| play | index | +/- |", "|---|---|---|"]
    for name, width in sorted(
        r["half_widths"].items(), key=lambda item: -(item[1] if item[1] is not None else 99)
    ):
        index = r["indices"][name]
        lines.append(
            f"| {name} | {'-' if index is None else f'{index:+.1f}'} | "
            f"{'-' if width is None else f'{width:.2f}'} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--target", type=float, default=0.5, help="interval half-width")
    parser.add_argument("--first", type=int, default=20_000, help="shoes of the first round")
    parser.add_argument("--cap", type=int, default=1_280_000, help="the most shoes dealt")
    parser.add_argument("--growth", type=float, default=1.5, help="each round's total / the last")
    parser.add_argument("--shard-shoes", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--repeats", type=int, default=3, help="of the speed run")
    parser.add_argument("--markdown", action="store_true", help="the tables, not JSON")
    parser.add_argument("--json", type=Path, help="also write the JSON document here")
    args = parser.parse_args()
    if args.first % args.shard_shoes or args.cap % args.shard_shoes:
        parser.error("--first and --cap must be whole numbers of --shard-shoes")
    request = normalize_index_request({**REQUEST, "seed": args.seed, "shoes": args.first})
    load = os.getloadavg()[0]
    run_index_shard(request, 0, 1)  # the kernel compiled or loaded outside every timing
    result = {
        "request": {**REQUEST, "seed": args.seed},
        "processes": args.processes,
        "shard_shoes": args.shard_shoes,
        "load_average": load,
        "speed": speed(request, args),
        "rounds": rounds(request, args),
    }
    text = json.dumps(result, indent=2)
    if args.json:
        args.json.write_text(text + "\n")
    print(markdown(result) if args.markdown else text)


if __name__ == "__main__":
    main()
