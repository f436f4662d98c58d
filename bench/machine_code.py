"""Does a change alter the round loops' machine code? This tree's compiled loops against
COMMIT's, instruction by instruction.

    .venv/bin/python bench/machine_code.py --against COMMIT

A refactor of the loops' source (a piece moved into an inlined helper, a constant passed
as an argument) that leaves the machine code as it was cannot change their speed, and a
same-run A/B on this shared machine cannot show a difference of a percent or two anyway
(docs/BENCHMARKS.md). So: COMMIT's tree is exported (`git archive`) to a temporary
directory, and each tree, in a fresh process with a numba cache of its own, compiles the
loops by playing a few rounds of every kind of game (the common game's solo and general
loops, full and plain; the Spanish 21 loop; the index kernel) and prints each loop's
assembly, normalised: labels, mangled names and the names of constant byte strings
(numba names an error message's bytes by a hash of its text and source line) are blanked,
comments and directives dropped. The report says, per loop and signature, whether the two
are the same and how many lines differ. Not a test; never run by pytest.
"""

from __future__ import annotations

import argparse
import difflib
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.commit_tree import export_tree  # noqa: E402

# Run in each tree: compile every loop, print {loop and signature: normalised assembly}.
DUMP_SCRIPT = r"""
import json, re, sys
sys.path.insert(0, sys.argv[1])
from jost_engine import _index_kernel, indices, kernel, kernel_spanish
from jost_engine import run_simulation_from_config

PLAYER = {"profile": "master_player", "playing_strategy": "auto"}
for casino, betting in [
    ("vegas_6d_s17_das", "flat_betting"),  # the solo loop, plain
    ("vegas_6d_s17_das", "master_betting_strategy"),  # the solo loop with a ramp
    ("master_casino", "martingale"),  # betting rules: the full loops
    ("spanish21_6d_h17", "master_betting_strategy"),
]:
    for players in (1, 2):  # one spot: the solo loop; two players: the general loop
        run_simulation_from_config({
            "casino": casino, "num_rounds": 2000, "seed": 1, "stop_when_broke": False,
            "players": [{**PLAYER, "betting_strategy": betting}] * players,
        })
request = indices.normalize_index_request({
    "casino": "vegas_6d_s17_das", "counting_strategy": "hilo", "plays": ["illustrious18"],
    "shoes": 10, "seed": 5, "step": 5,
})
for spec in indices.plan_index_shards(request, 10)[:1]:
    indices.run_index_shard_spec(request, 5, spec)

def normalised(asm):
    out = []
    for line in asm.splitlines():
        line = line.split("#")[0].rstrip()
        if not line.strip() or line.strip().startswith(".") or line.startswith('"'):
            continue
        line = re.sub(r"\.LBB\d+_\d+", "L", line)
        line = re.sub(r"_ZN\w+", "SYM", line)
        line = re.sub(r"\$?\"?\.(const\.picklebuf|bytes)\.[-\w]+\"?", "CONST", line)
        out.append(line)
    return out

loops = {
    "kernel._solo_rounds": kernel._solo_rounds,
    "kernel._general_rounds": kernel._general_rounds,
    "kernel_spanish._spanish_rounds": kernel_spanish._spanish_rounds,
    "_index_kernel.index_shoes": _index_kernel.index_shoes,
}
found = {}
for name, loop in loops.items():
    for signature, asm in loop.inspect_asm().items():
        # The general and solo loops compile once per `full`, their first argument.
        found[f"{name} ({signature[0]}, ...)"] = normalised(asm)
print(json.dumps(found))
"""


def dump(tree: Path, cache: Path) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", DUMP_SCRIPT, str(tree)],
        cwd=tree,
        env={"NUMBA_CACHE_DIR": str(cache), "JOST_AUTO_CACHE": "off", "PATH": "/usr/bin:/bin"},
        check=True,
        capture_output=True,
        text=True,
    )
    loaded: dict[str, list[str]] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--against", required=True, metavar="COMMIT")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jost-machine-code-") as tmp:
        old_tree = export_tree(args.against, Path(tmp))
        old = dump(old_tree, Path(tmp) / "cache-old")
        new = dump(REPO, Path(tmp) / "cache-new")
    report = {}
    for name in sorted(set(old) | set(new)):
        if name not in old or name not in new:
            report[name] = "only in " + ("this tree" if name in new else args.against)
            continue
        changed = sum(
            1
            for line in difflib.unified_diff(old[name], new[name], lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        )
        report[name] = (
            f"same ({len(new[name])} instructions)"
            if changed == 0
            else f"{changed} lines differ ({len(old[name])} -> {len(new[name])} instructions)"
        )
    print(json.dumps({"against": args.against, "loops": report}, indent=2))


if __name__ == "__main__":
    main()
