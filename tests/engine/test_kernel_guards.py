"""No number crashes the engine: the config refuses what would overflow, and the kernel
refuses a count that is not finite instead of indexing with it.

Issue 14's crash: a counting system with tags of 10 and `"tag_scale": 1e308` passed
validation, the running count overflowed to NaN, and the true-count table was indexed
with the integer of a NaN: SIGSEGV in the CLI, a corrupt table in a worker. Runs that
could crash are made in a child process, so a crash fails the test instead of pytest.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from jost_engine import normalize_config
from jost_engine.simulate import new_session

REPO = Path(__file__).resolve().parents[2]
ISSUE_TAGS = [10, 10, 10, 10, 10, 0, 0, 0, -10, -10]


def issue_config(players: int = 1) -> dict:
    return {
        "casino": "master_casino",
        "num_rounds": 20_000,
        "seed": 1,
        "players": [
            {
                "profile": "master_player",
                "betting_strategy": {"min_bet": 10, "bet_ramp": {"-Infinity": 1, "2": 4}},
                "counting_strategy": {"name": "x", "tags": ISSUE_TAGS, "tag_scale": 1e308},
            }
        ]
        * players,
    }


@pytest.mark.slow  # a fresh Python
def test_the_cli_refuses_the_issues_config_naming_tag_scale(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(issue_config()))
    done = subprocess.run(
        [sys.executable, "-m", "jost_engine", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "players[0].counting_strategy.tag_scale: must be 0.001..100, got 1e+308" in done.stderr


# A Config built by hand skips normalize_config's bounds: the kernel's own guard is the
# last line. tag_scale 1e307 keeps each tag finite (10 x 1e307 = 1e308), so the guard
# before the kernel lets it through and the running count overflows inside the loop.
OVERFLOW = """
import dataclasses, json, sys
from jost_engine import normalize_config
from jost_engine.simulate import new_session
cfg = normalize_config(json.loads(sys.argv[1]))
players = tuple(
    dataclasses.replace(p, counting=dataclasses.replace(p.counting, tag_scale=1e307))
    for p in cfg.players
)
session = new_session(dataclasses.replace(cfg, players=players), 1)
try:
    session.play(20_000)
except FloatingPointError as exc:
    print("refused:", exc)
else:
    print("played", session.rounds_played)
"""


@pytest.mark.slow  # a fresh Python per loop
@pytest.mark.parametrize("players", [1, 2], ids=["one-spot loop", "general loop"])
def test_the_kernel_refuses_a_count_that_overflows(players):
    raw = issue_config(players)
    for p in raw["players"]:
        p["counting_strategy"]["tag_scale"] = 1
    done = subprocess.run(
        [sys.executable, "-c", OVERFLOW, json.dumps(raw)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,  # the first run after a kernel change compiles it
    )
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert done.stdout.strip() == (
        "refused: the true count is not finite (the running count overflowed)"
    )


def test_a_number_the_kernel_cannot_compute_with_is_refused_before_it_runs():
    raw = issue_config()
    raw["players"][0]["counting_strategy"]["tag_scale"] = 1
    cfg = normalize_config(raw)
    player = cfg.players[0]
    infinite = dataclasses.replace(
        player, counting=dataclasses.replace(player.counting, tag_scale=1e308)
    )
    with pytest.raises(ValueError, match="a tags x tag_scale is not finite"):
        new_session(dataclasses.replace(cfg, players=(infinite,)), 1)
    nan = dataclasses.replace(player, bankroll=float("nan"))
    with pytest.raises(ValueError, match="a bankroll is not finite"):
        new_session(dataclasses.replace(cfg, players=(nan,)), 1)


def test_the_largest_count_the_bounds_allow_plays_and_fills_the_table():
    # tags of 10 at tag_scale 100, the largest the config takes: the running count
    # reaches hundreds of thousands, and every round still lands in one row.
    raw = issue_config()
    raw["players"][0]["counting_strategy"]["tag_scale"] = 100
    session = new_session(normalize_config(raw), 1)
    session.play(20_000)
    assert session.rounds_played == 20_000
    assert session.tallies.tc_table[0, :, 0].sum() == session.tallies.counters[0, 0] == 20_000
