"""The validator and the kernel agree on what is safe: every config normalize_config accepts
runs without a crash, without a NaN or an infinity in its results, and with counts that
add up.

Hypothesis draws configs within the validator's bounds (docs/CONFIG.md, "Bounds"), the
largest and smallest value of every bound among them (num_rounds and sessions apart: the
runs are kept to a few hundred rounds, and test_config_errors holds those bounds), and
a child process
(tests/engine/config_runner.py) runs each for a few hundred rounds: a kernel that wrote
out of bounds kills that child, which fails the example, not pytest. One child serves
many examples, so the compiled loops are loaded from numba's cache once, not per example.
"""

from __future__ import annotations

import json
import math
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from jost_engine.config import BET_RESULTS

# A thousand configs through a child Python: the full run has it, --fast leaves it out.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
# The first answer may wait for numba to compile the loops (a fresh checkout); later
# ones take milliseconds.
ANSWER_TIMEOUT = 600.0

MONEY = (0.01, 1e12)
COUNT = 1_000_000


class Child:
    """The runner process, started again after it dies."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> subprocess.Popen[str]:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        return subprocess.Popen(
            [sys.executable, str(REPO / "tests" / "engine" / "config_runner.py")],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, config: dict[str, Any]) -> dict[str, Any]:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = self.start()
        proc = self.proc
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps({"config": config}) + "\n")
        proc.stdin.flush()
        ready, _, _ = select.select([proc.stdout], [], [], ANSWER_TIMEOUT)
        line = proc.stdout.readline() if ready else ""
        if not line:
            self.stop()
            status = proc.returncode
            pytest.fail(f"the engine died (exit status {status}) on {json.dumps(config)}")
        return json.loads(line, parse_constant=_refuse_constant)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)


def _refuse_constant(name: str) -> float:
    raise AssertionError(f"{name} in the results")


@pytest.fixture(scope="module")
def child() -> Iterator[Child]:
    runner = Child()
    yield runner
    runner.stop()


# ---- configs within the bounds -----------------------------------------------------------


def edges(low: float, high: float, *inner: float) -> st.SearchStrategy[float]:
    """A number in low..high: each end itself half the time, else any value between."""
    return st.one_of(st.sampled_from((low, high, *inner)), st.floats(low, high))


def casinos() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "deck_count": st.integers(0, 8),
            "hit_on_soft_17": st.booleans(),
            "DAS": st.booleans(),
            "double_down_restrictions": st.sampled_from([["any"], ["9-11"], ["10-11"], [4, 21]]),
            "allow_resplit_to_hands": st.integers(1, 8),
            "allow_resplit_aces": st.booleans(),
            "hit_split_aces": st.booleans(),
            "allow_late_surrender": st.booleans(),
            "allow_early_surrender": st.booleans(),
            # The smallest positive payout and penetration are accepted too.
            "blackjack_payout": edges(5e-324, 3.0, 1.5, 1.2),
            "reshuffle_penetration": edges(5e-324, 1 - 2**-53, 0.75),
            "offer_insurance": st.booleans(),
            "dealer_checks_for_blackjack": st.booleans(),
        }
    ).map(_no_hole_card_rule)


def _no_hole_card_rule(casino: dict[str, Any]) -> dict[str, Any]:
    if not casino["dealer_checks_for_blackjack"]:
        casino["no_hole_card_loses"] = "original_bet" if casino["DAS"] else "all"
    return casino


def thresholds() -> st.SearchStrategy[float]:
    return st.one_of(
        st.sampled_from((-COUNT, COUNT, -1, 0, 1, 2, 3)),
        st.floats(-6, 6),
        st.floats(-COUNT, COUNT),
    )


def streaks() -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from((0, 1, 2, 10**9)), st.integers(0, 10**9))


@st.composite
def bet_rules(draw: st.DrawFn, n_steps: int) -> list[dict[str, Any]]:
    """Betting rules within their bounds (docs/CONFIG.md, "Betting by rules")."""
    ranges = (
        ("true_count", thresholds()),
        ("win_streak", streaks()),
        ("loss_streak", streaks()),
        ("net", edges(-1e12, 1e12, 0, 1)),
        ("cycle_net", edges(-1e12, 1e12, 0, 1)),
        ("step", st.integers(0, 99)),
    )
    rules = []
    for _ in range(draw(st.integers(1, 4))):
        when: dict[str, Any] = {}
        for name, values in ranges:
            given = draw(st.sampled_from(["none", "min", "max", "both"]))
            low, high = sorted((draw(values), draw(values)))
            if given in ("min", "both"):
                when[f"{name}_min"] = low
            if given in ("max", "both"):
                when[f"{name}_max"] = high
        if draw(st.booleans()):
            when["last_result"] = draw(
                st.lists(st.sampled_from(BET_RESULTS), min_size=1, max_size=3, unique=True)
            )
        then = draw(
            st.one_of(
                st.builds(lambda u: {"bet": u}, edges(1, 10_000, 2)),
                st.builds(lambda x: {"multiply": x}, edges(0.01, 10_000, 2)),
                st.builds(lambda n: {"add": n}, edges(-10_000, 10_000, 1, -1)),
                st.builds(lambda k: {"step": k}, st.integers(0, n_steps - 1)),
                st.just({"reset": True}),
            )
        )
        if draw(st.booleans()):
            then["cycle_target"] = draw(edges(0.01, 10_000, 1))
        rules.append({"when": when, "then": then} if when else {"then": then})
    return rules


@st.composite
def bettings(draw: st.DrawFn, most_spots: int) -> dict[str, Any]:
    min_bet = draw(edges(*MONEY, 10.0))
    betting: dict[str, Any] = {"min_bet": min_bet, "num_hands": draw(st.integers(1, most_spots))}
    tiers = []
    if draw(st.integers(0, 3)) == 0:
        # Betting by rules, whose bets reach 10,000 units without max_bet.
        steps = draw(st.lists(edges(1, 10_000, 1, 2), min_size=1, max_size=4))
        betting["bet_steps"] = steps
        betting["bet_rules"] = draw(bet_rules(len(steps)))
        largest = min_bet * 10_000
    else:
        tiers = draw(st.lists(st.tuples(thresholds(), edges(0.01, 10_000, 2, 8)), max_size=5))
        largest = min_bet * max([1.0, *(m for _, m in tiers)])
    if tiers:
        betting["bet_ramp"] = [
            {"count_threshold": t, "bet_multiplier": m} for t, m in dict(tiers).items()
        ]
    if largest > MONEY[1] or draw(st.booleans()):
        betting["max_bet"] = draw(st.floats(min_bet, MONEY[1]))
    if draw(st.booleans()):
        spots = draw(st.lists(st.tuples(thresholds(), st.integers(1, most_spots)), max_size=3))
        betting["spots_ramp"] = {str(t): n for t, n in dict(spots).items()}
    if draw(st.booleans()):
        wong_out = draw(thresholds())
        betting["wong_out"] = wong_out
        if draw(st.booleans()):
            betting["wong_in"] = draw(st.floats(wong_out, COUNT))
    betting["ramp_count"] = draw(st.sampled_from(["true", "running"]))
    return betting


@st.composite
def countings(draw: st.DrawFn) -> dict[str, Any]:
    whole = st.integers(-10, 10)
    halves = st.integers(-20, 20).map(lambda t: t / 2)
    counting: dict[str, Any] = {
        "tags": draw(st.lists(st.one_of(whole, halves), min_size=10, max_size=10)),
        "tag_scale": draw(edges(0.001, 100, 1)),
        "deck_estimation": draw(st.sampled_from(["exact", "half", "whole"])),
        "true_count_rounding": draw(st.sampled_from(["none", "floor", "truncate", "round"])),
    }
    if draw(st.booleans()):
        counting["unbalanced"] = True
        counting["initial_running_count"] = {
            "base": draw(edges(-10_000, 10_000, 0)),
            "per_deck": draw(edges(-10_000, 10_000, -4)),
        }
    return counting


@st.composite
def playings(draw: st.DrawFn, infinite: bool) -> dict[str, Any]:
    charts = ["master_playing_strategy", "perfect_s17_basic_strategy", "perfect_h17_basic_strategy"]
    # "auto" is solved for the rules (a second for a finite shoe, milliseconds for an
    # infinite one): only where it is cheap, so the budget goes to the kernel.
    strategy = draw(st.sampled_from(["auto", *charts] if infinite else charts))
    playing: dict[str, Any] = {"strategy": "auto"} if strategy == "auto" else {"parent": strategy}
    playing["insurance"] = draw(st.one_of(st.sampled_from(["never", "always"]), thresholds()))
    plays = draw(
        st.lists(
            st.one_of(
                st.sampled_from(["illustrious18", "fab4"]),
                st.fixed_dictionaries(
                    {
                        "hand": st.sampled_from(["16", "soft 18", "10,10", "12", "A,A"]),
                        "vs": st.sampled_from(["2", "6", "10", "A"]),
                        "index": thresholds(),
                        "action": st.sampled_from(["S", "H", "Dh", "Rh"]),
                        "when": st.sampled_from(["at_or_above", "below"]),
                    }
                ),
            ),
            max_size=4,
        )
    )
    if plays:
        playing["deviations"] = plays
    return playing


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    casino = draw(casinos())
    n_players = draw(st.integers(1, 3))
    most_spots = 7 // n_players
    players = [
        {
            "bankroll": draw(edges(*MONEY, 1000.0)),
            "betting_strategy": draw(bettings(most_spots)),
            "counting_strategy": draw(countings()),
            "playing_strategy": draw(playings(casino["deck_count"] == 0)),
        }
        for _ in range(n_players)
    ]
    config: dict[str, Any] = {
        "casino": casino,
        "players": players,
        "seed": draw(st.sampled_from([0, 2**63 - 1]) | st.integers(0, 2**63 - 1)),
        "log_hands": draw(st.booleans()),
        "rounds_per_hour": draw(edges(1, 10_000, 100)),
    }
    if draw(st.booleans()):
        config["sessions"] = draw(st.integers(1, 3))
        config["num_rounds"] = draw(st.integers(1, 150))
    else:
        config["stop_when_broke"] = draw(st.booleans())
        config["num_rounds"] = draw(st.integers(1, 400))
    return config


# ---- what every result must satisfy -----------------------------------------------------


def check_document(config: dict[str, Any], doc: dict[str, Any]) -> None:
    sessions = config.get("sessions") or 1
    asked = config["num_rounds"] * sessions
    assert doc["rounds_asked"] == asked
    assert 0 <= doc["rounds_played"] <= asked
    broke_rule = config.get("stop_when_broke", True)
    for player in doc["players"]:
        counts = player["counts"]
        hands = counts["hands"]
        # Every hand ends in exactly one of a win, a loss or a push.
        assert counts["win"] + counts["loss"] + counts["push"] == hands
        assert counts["rounds"] <= doc["rounds_played"]
        assert counts["rounds"] <= counts["spots"] <= hands
        assert counts["rounds"] + counts["rounds_watched"] <= doc["rounds_played"]
        assert player["total_wagered"] >= 0
        net = player["net_gain_loss"]
        # Sums of money agree to float64's precision on the money moved (a bet of 1e12
        # and a bankroll of 0.01 share one float, whose last bit is worth 1e-4).
        money = dict(rel=1e-9, abs=1e-12 * (player["total_wagered"] + player["initial_bankroll"]))
        assert player["final_bankroll"] == player["initial_bankroll"] + net
        if broke_rule and "sessions" not in config:
            # The broke rule: no bet is ever uncovered, so the bankroll never goes below 0
            # (with sessions, final_bankroll adds up the net of every session).
            assert player["final_bankroll"] >= -money["abs"]
        table = player.get("true_count_table")
        if table is not None:
            # Every round the player bet sits in exactly one row, and its money with it.
            assert sum(row["rounds"] for row in table) == counts["rounds"]
            assert sum(row["net"] for row in table) == pytest.approx(net, **money)
            assert sum(row["wagered"] for row in table) == pytest.approx(
                player["total_wagered"], **money
            )
        history = player["hand_history"]
        if config.get("log_hands") and not doc["hand_history_truncated"]:
            # The hand history is every hand played, so its money is the net.
            assert len(history) == hands
            logged = sum(h["net"] + h["insurance_net"] for h in history)
            assert logged == pytest.approx(net, **money)
        if "sessions" in config:
            assert player["sessions"] == sessions
            assert 0 <= player["sessions_broke"] <= sessions


def all_finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(all_finite(v) for v in value.values())
    if isinstance(value, list):
        return all(all_finite(v) for v in value)
    return True


@settings(
    max_examples=int(os.environ.get("JOST_PROPERTY_EXAMPLES", "1000")),
    deadline=None,  # the child's first answer loads the compiled loops
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)
@given(config=configs())
def test_every_config_the_validator_accepts_runs_and_adds_up(child, config):
    note(f"config: {json.dumps(config)}")
    answer = child.ask(config)
    assert "error" not in answer, f"{answer['error']} on {json.dumps(config)}"
    # Every config drawn is within every bound, cross-field ones included (wong_out at
    # most wong_in, seven spots at most, the largest bet capped): the validator must
    # accept it, or the two disagree about what is safe.
    assert "refused" not in answer, answer["refused"]
    event("ran with sessions" if "sessions" in config else "ran")
    if any("bet_rules" in p["betting_strategy"] for p in config["players"]):
        event("some player bets by rules")
    doc = answer["doc"]
    assert all_finite(doc), f"a NaN or infinity in the results of {json.dumps(config)}"
    check_document(config, doc)
