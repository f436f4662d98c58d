"""Optimal bets from a true-count table (jost_engine.bets), on hand-made tables: the Kelly
bet, the limits, the unit and the spread, the risk-scaled ramp, the config it pastes into,
and the errors that name their field."""

from __future__ import annotations

import math

import pytest

from jost_engine import ConfigError, CountRow, normalize_config, optimal_bets, per_count_rows
from jost_engine.bets import ramp_ev_variance, ramp_score
from jost_engine.stats import n0_di_score, risk_of_ruin

# A Hi-Lo-like table: the edge grows by about 0.5% a true count from -0.5% at 0.
TABLE = [
    CountRow(true_count=c, frequency=f, flat_edge=-0.005 + 0.005 * c, flat_sd=1.15)
    for c, f in [(-3, 0.08), (-2, 0.12), (-1, 0.19), (0, 0.27), (1, 0.12), (2, 0.09),
                 (3, 0.06), (4, 0.04), (5, 0.02), (6, 0.01)]
]  # fmt: skip
LIMITS = {"bankroll": 10_000, "min_bet": 10, "max_bet": 1000, "max_spread": 100, "unit": 0.01}
# A bankroll deep enough for a 1-20 spread at every risk tried, with the table maximum
# far away so that only the spread shapes the ramp.
RISK = {"bankroll": 1_000_000, "min_bet": 10, "max_bet": 100_000, "max_spread": 20, "unit": 0.01}


def bets_of(answer: dict) -> list[float | None]:
    return [row["bet"] for row in answer["ramp"]]


class TestKellyBet:
    def test_the_bet_before_rounding_is_edge_over_variance_times_bankroll_times_fraction(self):
        answer = optimal_bets(TABLE, **LIMITS, kelly_fraction=0.5)
        for row, count in zip(answer["ramp"], TABLE, strict=True):
            kelly = 10_000 * 0.5 * count.flat_edge / count.flat_sd**2
            if count.flat_edge > 0:
                assert row["kelly_bet"] == pytest.approx(kelly, rel=1e-12)
                # The limits are wide here: the bet is the Kelly bet itself where it is
                # above the minimum.
                if kelly >= 10:
                    assert row["bet_before_rounding"] == pytest.approx(kelly, rel=1e-12)
                    assert abs(row["bet"] - kelly) <= 0.005 + 1e-9
            else:
                assert row["bet"] == 10

    def test_it_bets_the_minimum_at_and_below_break_even(self):
        answer = optimal_bets(TABLE, **LIMITS, kelly_fraction=1)
        for row in answer["ramp"]:
            if row["flat_edge"] <= 0:
                assert row["bet"] == 10

    def test_a_larger_fraction_bets_more_at_every_positive_count(self):
        half = bets_of(optimal_bets(TABLE, **LIMITS, kelly_fraction=0.5))
        full = bets_of(optimal_bets(TABLE, **LIMITS, kelly_fraction=1))
        assert all(f >= h for f, h in zip(full, half, strict=True))  # type: ignore[operator]
        assert full[-1] > half[-1]  # type: ignore[operator]


class TestLimits:
    @pytest.mark.parametrize(
        ("min_bet", "max_bet", "spread", "unit"),
        [(10, 100, 8, 5), (25, 500, 12, 25), (15, 200, 20, 5), (5, 1000, 4, 1), (10, 50, 100, 10)],
    )
    def test_every_bet_respects_min_max_unit_and_spread(self, min_bet, max_bet, spread, unit):
        answer = optimal_bets(
            TABLE, bankroll=50_000, min_bet=min_bet, max_bet=max_bet, max_spread=spread,
            unit=unit, kelly_fraction=1,
        )  # fmt: skip
        bets = bets_of(answer)
        bottom = min(bets)  # type: ignore[type-var]
        assert bottom == min_bet
        for bet in bets:
            assert min_bet <= bet <= max_bet  # type: ignore[operator]
            assert bet <= spread * bottom + 1e-9  # type: ignore[operator]
            assert bet / unit == pytest.approx(round(bet / unit), abs=1e-9)  # type: ignore[operator]
        # The limits bind at the top of this table for these bankrolls.
        assert max(bets) == math.floor(min(max_bet, spread * min_bet) / unit) * unit  # type: ignore[type-var]

    def test_it_wongs_out_where_the_edge_is_negative(self):
        answer = optimal_bets(TABLE, **LIMITS, kelly_fraction=0.5, wong_out=True)
        # The suffix of rows with the largest expected win per round dealt starts at +2
        # (the +1 row's edge is 0 here, so it adds nothing; the first positive row is +2).
        assert answer["wong_out"] == 2
        assert answer["betting_strategy"]["wong_out"] == 2
        for row in answer["ramp"]:
            assert (row["bet"] is None) == (row["true_count"] < 2)
        played = sum(c.frequency for c in TABLE if c.true_count >= 2) / sum(
            c.frequency for c in TABLE
        )
        assert answer["played_frequency"] == pytest.approx(played)

    def test_it_does_not_wong_when_every_count_is_worth_a_bet(self):
        rows = [CountRow(c, 0.25, 0.01 + 0.005 * c, 1.1) for c in range(4)]
        answer = optimal_bets(rows, **LIMITS, kelly_fraction=0.5, wong_out=True)
        assert answer["wong_out"] is None
        assert "wong_out" not in answer["betting_strategy"]
        assert None not in bets_of(answer)


class TestRiskTarget:
    @pytest.mark.parametrize("target", [0.01, 0.05, 0.135, 0.3])
    def test_the_scaled_ramp_meets_its_target_risk_by_the_formula(self, target):
        answer = optimal_bets(TABLE, **RISK, risk_of_ruin=target)
        before = [row["bet_before_rounding"] for row in answer["ramp"]]
        ev, var = ramp_ev_variance(TABLE_NORMALISED, before)
        assert risk_of_ruin(ev, var, 1_000_000) == pytest.approx(target, abs=1e-6)
        assert answer["risk_of_ruin_before_rounding"] == pytest.approx(target, abs=1e-6)
        # After rounding to the cent the risk moves only a little.
        assert answer["risk_of_ruin"] == pytest.approx(target, rel=0.02)

    def test_the_shape_does_not_change_with_the_risk(self):
        # Schlesinger's and Harris's result: only the size changes.
        low = optimal_bets(TABLE, **RISK, risk_of_ruin=0.02)
        high = optimal_bets(TABLE, **RISK, risk_of_ruin=0.2)
        a = [row["bet_before_rounding"] for row in low["ramp"]]
        b = [row["bet_before_rounding"] for row in high["ramp"]]
        ratios = [y / x for x, y in zip(a, b, strict=True)]
        assert max(ratios) == pytest.approx(min(ratios), rel=1e-9)
        assert ratios[0] > 1

    def test_the_shape_maximises_score_within_the_spread(self):
        answer = optimal_bets(TABLE, **RISK | {"max_spread": 8}, risk_of_ruin=0.05)
        best = ramp_score(TABLE, bets_of(answer))
        # Every ramp of the same spread a player might write scores lower on this table.
        for ramp in (
            [1, 1, 1, 1, 1, 2, 4, 6, 8, 8],
            [1] * 5 + [8] * 5,
            [1] * 4 + [2, 3, 4, 5, 6, 8],
        ):
            assert ramp_score(TABLE, ramp) <= best

    def test_an_out_of_reach_risk_is_an_error_naming_risk_of_ruin(self):
        with pytest.raises(ConfigError) as caught:
            optimal_bets(TABLE, **RISK | {"bankroll": 500}, risk_of_ruin=0.01)
        assert [path for path, _ in caught.value.problems] == ["risk_of_ruin"]


TABLE_NORMALISED = [
    CountRow(c.true_count, c.frequency / sum(r.frequency for r in TABLE), c.flat_edge, c.flat_sd)
    for c in TABLE
]


class TestFigures:
    def test_the_figures_are_those_of_the_rounded_ramp_on_the_table(self):
        answer = optimal_bets(TABLE, **LIMITS, kelly_fraction=0.5, rounds_per_hour=80)
        bets = bets_of(answer)
        # By hand: EV and the second moment summed over the counts.
        total = sum(c.frequency for c in TABLE)
        ev = sum(c.frequency * b * c.flat_edge for c, b in zip(TABLE, bets, strict=True)) / total
        m2 = (
            sum(
                c.frequency * b * b * (c.flat_sd**2 + c.flat_edge**2)
                for c, b in zip(TABLE, bets, strict=True)
            )
            / total
        )
        sd = math.sqrt(m2 - ev * ev)
        assert answer["ev_per_round"] == pytest.approx(ev)
        assert answer["sd_per_round"] == pytest.approx(sd)
        assert answer["win_per_hour"] == pytest.approx(80 * ev)
        assert answer["sd_per_hour"] == pytest.approx(math.sqrt(80) * sd)
        n0, di, score = n0_di_score(ev, sd)
        assert (answer["n0"], answer["di"], answer["score"]) == pytest.approx((n0, di, score))
        assert answer["di"] == pytest.approx(1000 * ev / sd)
        assert answer["score"] == pytest.approx(1e6 * ev**2 / sd**2)
        assert answer["risk_of_ruin"] == pytest.approx(math.exp(-2 * ev * 10_000 / sd**2))
        # Red Taylor's certainty equivalent, E - V / (2 k B), per round and per hour.
        assert answer["certainty_equivalent"] == pytest.approx(ev - sd**2 / (2 * 0.5 * 10_000))
        assert answer["certainty_equivalent_per_hour"] == pytest.approx(
            80 * (ev - sd**2 / (2 * 0.5 * 10_000))
        )


class TestBettingStrategy:
    @pytest.mark.parametrize("wong_out", [False, True])
    def test_it_pastes_into_a_config_and_bets_the_ramp(self, wong_out):
        answer = optimal_bets(
            TABLE, bankroll=10_000, min_bet=10, max_bet=500, max_spread=12, unit=5,
            kelly_fraction=0.5, wong_out=wong_out,
        )  # fmt: skip
        config = normalize_config(
            {"casino": "master_casino", "num_rounds": 1,
             "players": [{"betting_strategy": answer["betting_strategy"]}]}
        )  # fmt: skip
        betting = config.players[0].betting
        for row in answer["ramp"]:
            if row["bet"] is None:
                assert row["true_count"] < betting.wong_out  # type: ignore[operator]
                continue
            # The tier in force at a count in [k, k + 1) is the last threshold <= k.
            mult = [m for t, m in betting.ramp if t <= row["true_count"]][-1]
            assert betting.min_bet * mult == pytest.approx(row["bet"])
        assert (betting.wong_out is not None) == wong_out

    def test_an_unbalanced_count_reads_it_by_the_true_count(self):
        # The table's rows are true counts; KO's ramps read the running count by default.
        answer = optimal_bets(TABLE, **LIMITS, kelly_fraction=0.5)
        config = normalize_config(
            {"casino": "master_casino", "num_rounds": 1,
             "players": [{"counting_strategy": "ko",
                          "betting_strategy": answer["betting_strategy"]}]}
        )  # fmt: skip
        assert config.players[0].betting.ramp_count == "true"


class TestBadInputs:
    @pytest.mark.parametrize(
        ("change", "path"),
        [
            ({"bankroll": 0}, "bankroll"),
            ({"max_spread": 0.5}, "max_spread"),
            ({"min_bet": 2000}, "min_bet"),
            ({"unit": 3}, "min_bet"),  # 10 is not a multiple of 3
            ({"unit": -1}, "unit"),
            ({"kelly_fraction": None}, "kelly_fraction"),
            ({"risk_of_ruin": 0.05}, "risk_of_ruin"),
            ({"rounds_per_hour": 0}, "rounds_per_hour"),
        ],
    )
    def test_it_names_the_bad_field(self, change, path):
        args = LIMITS | {"kelly_fraction": 0.5} | change
        with pytest.raises(ConfigError) as caught:
            optimal_bets(TABLE, **args)
        assert path in [p for p, _ in caught.value.problems]

    def test_a_bad_row_is_named_by_its_index(self):
        rows = [*TABLE[:2], CountRow(5, 0.1, 0.01, 0.0)]
        with pytest.raises(ConfigError) as caught:
            optimal_bets(rows, **LIMITS, kelly_fraction=1)
        assert [p for p, _ in caught.value.problems] == ["table[2].flat_sd"]

    def test_a_table_without_a_positive_edge_has_nothing_to_bet_on(self):
        rows = [CountRow(c, 0.5, -0.01, 1.1) for c in (0, 1)]
        with pytest.raises(ConfigError) as caught:
            optimal_bets(rows, **LIMITS, kelly_fraction=1)
        assert [p for p, _ in caught.value.problems] == ["table"]


class TestPerCountRows:
    def test_it_reads_a_seats_true_count_table(self):
        results = {"players": [{"true_count_table": [
            {"true_count": -1, "frequency": 0.5, "flat_edge": -0.01, "flat_sd": 1.1},
            {"true_count": 2, "frequency": 0.5, "flat_edge": 0.01, "flat_sd": 1.2},
            {"true_count": 3, "frequency": 0.0, "flat_edge": 0.5, "flat_sd": None},
        ]}]}  # fmt: skip
        assert per_count_rows(results, 0) == [
            CountRow(-1, 0.5, -0.01, 1.1), CountRow(2, 0.5, 0.01, 1.2)
        ]  # fmt: skip

    def test_a_seat_that_did_not_count_names_job(self):
        with pytest.raises(ConfigError) as caught:
            per_count_rows({"players": [{"ev_per_round": 0.1}]}, 0)
        assert [p for p, _ in caught.value.problems] == ["job"]

    def test_a_seat_that_is_not_there_names_seat(self):
        with pytest.raises(ConfigError) as caught:
            per_count_rows({"players": [{}]}, 3)
        assert [p for p, _ in caught.value.problems] == ["seat"]
