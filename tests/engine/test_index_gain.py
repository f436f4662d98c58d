"""What an index is worth (gain_per_100) and the risk-averse index
(jost_engine.indices): one deal of the Illustrious 18 and Fab 4 read with three ramps
and bankrolls, so every comparison is on the same shoes."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from jost_engine import normalize_config
from jost_engine.indices import (
    IndexRequest,
    IndexSums,
    index_results,
    normalize_index_request,
    run_index_shard,
)

GAME = {"parent": "vegas_6d_s17_das", "allow_late_surrender": True, "reshuffle_penetration": 80}
SHOES = 6_000
FLAT = {"min_bet": 10}
RAMP = {"min_bet": 10, "bet_ramp": {"2": 2, "3": 4, "4": 8}}
BANKROLL = 3_000.0

# Two deals of the 22 plays (about 15 s): in the full suite, not the one-minute loop.
pytestmark = pytest.mark.slow


def _deal(betting: dict[str, Any]) -> tuple[IndexRequest, IndexSums]:
    raw = {"casino": GAME, "plays": ["illustrious18", "fab4"], "seed": 31, "shoes": SHOES}
    request = normalize_index_request({**raw, "betting_strategy": betting})
    return request, run_index_shard(request, 31, SHOES)


def _read(request: IndexRequest, sums: IndexSums) -> dict[tuple[str, str, str], dict[str, Any]]:
    result = index_results(request, sums)
    return {(e["hand"], e["vs"], "".join(e["actions"])): e for e in result["indices"]} | {
        ("result", "", ""): result
    }


@pytest.fixture(scope="module")
def flat() -> dict[tuple[str, str, str], dict[str, Any]]:
    return _read(*_deal(FLAT))


@pytest.fixture(scope="module")
def ramp_deal() -> tuple[IndexRequest, IndexSums]:
    return _deal(RAMP)


@pytest.fixture(scope="module")
def ramped(ramp_deal) -> dict[tuple[str, str, str], dict[str, Any]]:
    # The bankroll changes only how the sums are read: the same deal serves every one.
    # 300 minimum bets: 2.7% of it bet at +4, an aggressive ramp, so each play's shift is
    # past the 0.1 its index is given to (at 1,000 minimum bets 11 v A moves 0.05).
    request, sums = ramp_deal
    return _read(dataclasses.replace(request, bankroll=BANKROLL), sums)


def _plays(result: dict[tuple[str, str, str], dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for key, entry in result.items() if key[0] != "result"]


def test_every_play_with_an_index_is_worth_something(flat) -> None:
    # Using a well-placed index never costs (b is played only where it is better): each
    # gain of a play whose index is known to +/-0.5 is positive or within 4 SE of 0, and
    # the big ones far beyond their noise. (The SE is the sum's given the index; a play
    # whose index is still far from settled can cost, as a wrong index does.)
    for entry in _plays(flat):
        # No index, no gain: the play is never made on the count.
        assert (entry["gain_per_100"] is None) == (entry["index"] is None), entry
    settled = [e for e in _plays(flat) if e["index"] is not None]
    settled = [e for e in settled if e["interval"][1] - e["interval"][0] <= 1.0]
    assert len(settled) >= 11
    for entry in settled:
        assert entry["gain_per_100"] > -4 * entry["gain_per_100_se"], entry
    for key in (("insurance", "A", "declineinsure"), ("15", "10", "HR")):
        assert flat[key]["gain_per_100"] > 4 * flat[key]["gain_per_100_se"], flat[key]


def test_a_ramp_multiplies_the_gain_of_plays_made_at_high_counts(flat, ramped) -> None:
    # 10,10 v 6 splits at about +4, where the ramp bets 8 units for the flat bet's 1.
    key = ("10,10", "6", "SP")
    assert ramped[key]["gain_per_100"] > 2 * flat[key]["gain_per_100"]
    # The stated ramp is in the result, in units of the minimum bet.
    units = [tier["units"] for tier in ramped[("result", "", "")]["gain_ramp"]["units"]]
    assert units == [1, 2, 4, 8]


def test_the_ranking_puts_insurance_first_as_the_illustrious_18_did(ramped) -> None:
    # Schlesinger ranked the Illustrious 18 by gain with insurance first, and the Fab 4
    # with 15 v 10 first (Blackjack Attack, 3rd ed.).
    ranked = [e for e in _plays(ramped) if e["gain_per_100"] is not None]
    assert len(ranked) >= 18
    i18 = [e for e in ranked if "R" not in e["actions"]]
    assert max(i18, key=lambda e: e["gain_per_100"])["hand"] == "insurance"
    fab4 = [e for e in ranked if "R" in e["actions"]]
    best = max(fab4, key=lambda e: e["gain_per_100"])
    assert (best["hand"], best["vs"]) == ("15", "10")


def test_a_bankroll_gives_risk_averse_indices_beside_the_plain_ones(ramped, flat) -> None:
    assert all(entry["risk_averse"] is None for entry in _plays(flat))
    result = ramped[("result", "", "")]
    assert result["bankroll"] == BANKROLL
    averse = result["risk_averse_deviations"]
    config = normalize_config(
        {
            "casino": GAME,
            "players": [{"playing_strategy": {"auto": True, "deviations": averse}}],
            "num_rounds": 10,
        }
    )
    assert len(config.players[0].playing.deviations) == len(averse)


@pytest.mark.parametrize("key", [("10", "10", "HD"), ("11", "A", "HD"), ("9", "2", "HD")])
def test_a_double_needs_a_higher_count_when_risk_averse(ramped, key) -> None:
    # Doubling adds variance: the Kelly rule (mean - f/2 x second moment) asks for more
    # edge before it, so the risk-averse index is above the plain one, beyond its noise
    # (the two are read from the same states: their difference is far less noisy than
    # either interval).
    entry = ramped[key]
    assert entry["risk_averse"]["index"] > entry["index"], entry


@pytest.mark.parametrize("key", [("14", "10", "HR"), ("15", "9", "HR")])
def test_surrender_comes_earlier_when_risk_averse(ramped, key) -> None:
    # Surrender removes variance: the risk-averse player gives up half the bet sooner.
    entry = ramped[key]
    assert entry["risk_averse"]["index"] < entry["index"], entry


def test_with_a_bankroll_out_of_reach_risk_averse_is_the_plain_index(ramp_deal) -> None:
    # f = bet / bankroll near 0: the second moment's weight vanishes.
    request, sums = ramp_deal
    rich = _read(dataclasses.replace(request, bankroll=1e12), sums)
    for entry in _plays(rich):
        if entry["hand"] == "insurance":
            assert entry["risk_averse"]["index"] is None
            assert "not computed for insurance" in entry["risk_averse"]["note"]
            continue
        assert entry["risk_averse"]["index"] == entry["index"], entry
