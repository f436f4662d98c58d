"""Mergeable statistics: exact merges and the formulas of the derived metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from jost_engine import kernel as k
from jost_engine.stats import (
    HAND_LOG_CAP,
    RISKS,
    STATS_FORMAT,
    Stats,
    interval,
    mean_sd,
    merge,
    player_metrics,
    risk_of_ruin,
    true_count_table,
)


def stats_from(nets: np.ndarray, min_bet: float = 10.0, wagered_per_round: float = 10.0) -> Stats:
    """Stats of a session whose per-round nets are `nets`, as the kernel would sum them."""
    counters = np.zeros((1, k.N_COUNTERS), dtype=np.int64)
    sums = np.zeros((1, k.N_SUMS))
    counters[0, k.C_ROUNDS] = counters[0, k.C_SPOTS] = counters[0, k.C_HANDS] = nets.size
    counters[0, k.C_WIN] = int((nets > 0).sum())
    counters[0, k.C_LOSS] = int((nets < 0).sum())
    counters[0, k.C_PUSH] = int((nets == 0).sum())
    sums[0, k.S_NET] = nets.sum()
    sums[0, k.S_NET_SQ] = (nets * nets).sum()
    sums[0, k.S_UNIT_NET] = (nets / min_bet).sum()
    sums[0, k.S_UNIT_SQ] = ((nets / min_bet) ** 2).sum()
    sums[0, k.S_WAGERED] = wagered_per_round * nets.size
    sums[0, k.S_INITIAL_BET] = min_bet * nets.size
    sums[0, k.S_FLAT] = (nets / min_bet).sum()  # one spot at min_bet: f = u
    sums[0, k.S_FLAT_SQ] = ((nets / min_bet) ** 2).sum()
    return Stats(
        counters=counters,
        sums=sums,
        tc_table=np.zeros((1, k.N_TC, k.N_TC_FIELDS)),
        rounds_played=nets.size,
        rounds_asked=nets.size,
        players_broke=np.zeros(1, dtype=np.int64),
    )


@pytest.fixture(scope="module")
def nets() -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.choice(
        [-20.0, -10.0, -5.0, 0.0, 10.0, 15.0, 20.0],
        size=100_003,
        p=[0.05, 0.42, 0.01, 0.09, 0.37, 0.04, 0.02],
    )


class TestMerge:
    def test_merged_parts_give_the_mean_and_sd_of_the_whole(self, nets):
        parts = [stats_from(chunk) for chunk in np.array_split(nets, 7)]
        merged = player_metrics(merge(*parts), 0, 1000.0)
        assert merged["rounds_played"] == nets.size
        assert merged["ev_per_round"] == pytest.approx(nets.mean(), rel=1e-12)
        assert merged["sd_per_round"] == pytest.approx(nets.std(ddof=1), rel=1e-12)
        assert merged["ev_per_unit"] == pytest.approx(nets.mean() / 10.0, rel=1e-12)

    def test_merge_adds_counters_exactly(self, nets):
        a, b = stats_from(nets[:500]), stats_from(nets[500:])
        merged = merge(a, b)
        assert np.array_equal(merged.counters, a.counters + b.counters)
        assert merged.rounds_played == nets.size and merged.sessions == 2

    def test_merge_refuses_different_tables(self, nets):
        two_players = Stats(
            counters=np.zeros((2, k.N_COUNTERS), dtype=np.int64),
            sums=np.zeros((2, k.N_SUMS)),
            tc_table=np.zeros((2, k.N_TC, k.N_TC_FIELDS)),
            rounds_played=0,
            rounds_asked=0,
        )
        with pytest.raises(ValueError):
            merge(stats_from(nets[:10]), two_players)

    def test_the_merged_hand_log_is_capped(self, nets):
        parts = []
        for _ in range(3):
            s = stats_from(nets[:10])
            s.hand_log = [{"round": i} for i in range(HAND_LOG_CAP // 2 + 1)]
            s.hands_logged = len(s.hand_log)
            parts.append(s)
        merged = merge(*parts)
        assert len(merged.hand_log) == HAND_LOG_CAP
        assert merged.hands_logged == 3 * (HAND_LOG_CAP // 2 + 1)


class TestFormulas:
    def test_mean_and_sample_sd_from_sums(self):
        xs = np.array([1.0, 2.0, 4.0, 7.0])
        mean, sd = mean_sd(xs.sum(), (xs * xs).sum(), xs.size)
        assert mean == pytest.approx(3.5) and sd == pytest.approx(xs.std(ddof=1))

    def test_undefined_figures_are_none_not_nan(self):
        assert mean_sd(0.0, 0.0, 0) == (None, None)
        assert mean_sd(5.0, 25.0, 1) == (5.0, None)
        assert interval(None, None, 0) is None

    def test_the_95_interval_is_1_96_standard_errors(self):
        low, high = interval(0.5, 2.0, 400)
        assert low == pytest.approx(0.5 - 1.96 * 0.1) and high == pytest.approx(0.5 + 1.96 * 0.1)

    def test_player_edge_is_net_over_total_wagered(self, nets):
        m = player_metrics(stats_from(nets, wagered_per_round=12.5), 0, 1000.0)
        assert m["player_edge"] == pytest.approx(nets.sum() / (12.5 * nets.size))

    def test_n0_score_and_risk_of_ruin_follow_their_definitions(self):
        # A winning game: +10 or -10 with a 2% edge, in units of 10.
        nets = np.array([10.0] * 51 + [-10.0] * 49)
        m = player_metrics(stats_from(nets), 0, 1000.0)
        mean_u, var_u = 0.02, np.var(nets / 10.0, ddof=1)
        assert m["n0"] == pytest.approx(var_u / mean_u**2)
        assert m["score"] == pytest.approx(1e6 * mean_u**2 / var_u)
        var = np.var(nets, ddof=1)
        assert m["risk_of_ruin"] == pytest.approx(math.exp(-2 * 0.2 * 1000.0 / var))

    def test_a_losing_game_is_ruined_for_sure(self, nets):
        assert player_metrics(stats_from(nets), 0, 1000.0)["risk_of_ruin"] == 1.0

    def test_frequencies_are_per_hand_and_add_up(self, nets):
        f = player_metrics(stats_from(nets), 0, 1000.0)["frequencies"]
        assert f["win"] + f["loss"] + f["push"] == pytest.approx(1.0)
        assert f["insurance_won"] is None  # no insurance taken: undefined, not 0/0


class TestTrueCountRows:
    """A row of the true-count table holds the rounds one ramp tier bet, for whole-number
    thresholds: the row of a true count is its floor, as the ramp reads the count."""

    THRESHOLDS = (-math.inf, -1.0, 1.0, 2.0, 3.0, 5.0)

    @classmethod
    def tier(cls, tc: float) -> int:
        # The kernel's ramp: the highest threshold at or below the true count.
        return max(i for i, t in enumerate(cls.THRESHOLDS) if tc >= t)

    @pytest.mark.parametrize(
        "tc, row",
        [(2.0, 2), (2.5, 2), (2.99, 2), (3.0, 3), (0.4, 0), (-0.4, -1), (-1.0, -1), (-1.01, -2)],
    )
    def test_a_true_count_goes_in_the_row_of_its_floor(self, tc, row):
        assert k._tc_bin(tc) + k.TC_MIN == row

    def test_the_end_rows_hold_everything_beyond(self):
        assert k._tc_bin(25.3) + k.TC_MIN == k.TC_MAX
        assert k._tc_bin(-13.7) + k.TC_MIN == k.TC_MIN

    def test_every_true_count_of_a_row_bets_at_one_tier(self):
        counts = np.random.default_rng(5).uniform(-6.0, 8.0, 20_000)
        tiers_by_row: dict[int, set[int]] = {}
        for tc in counts:
            tiers_by_row.setdefault(int(k._tc_bin(tc)), set()).add(self.tier(tc))
        assert len(tiers_by_row) == 14
        assert all(len(tiers) == 1 for tiers in tiers_by_row.values())


def stats_of_rounds(nets: np.ndarray, bets: np.ndarray, tcs: np.ndarray, min_bet: float) -> Stats:
    """Stats of rounds (net, initial bet, true count), summed round by round in order as
    the kernel sums them (one spot, no doubles: wagered = the bet)."""
    counters = np.zeros((1, k.N_COUNTERS), dtype=np.int64)
    sums = np.zeros((1, k.N_SUMS))
    tc_table = np.zeros((1, k.N_TC, k.N_TC_FIELDS))
    counters[0, k.C_ROUNDS] = counters[0, k.C_SPOTS] = counters[0, k.C_HANDS] = nets.size
    for net, bet, tc in zip(nets.tolist(), bets.tolist(), tcs.tolist(), strict=True):
        unit, flat = net / min_bet, net / bet
        sums[0, k.S_WAGERED] += bet
        sums[0, k.S_NET] += net
        sums[0, k.S_NET_SQ] += net * net
        sums[0, k.S_UNIT_NET] += unit
        sums[0, k.S_UNIT_SQ] += unit * unit
        sums[0, k.S_INITIAL_BET] += bet
        sums[0, k.S_FLAT] += flat
        sums[0, k.S_FLAT_SQ] += flat * flat
        k._tally_tc(tc_table, 0, k._tc_bin(tc), net, bet, bet, flat)
    return Stats(
        counters=counters,
        sums=sums,
        tc_table=tc_table,
        rounds_played=nets.size,
        rounds_asked=nets.size,
        players_broke=np.zeros(1, dtype=np.int64),
    )


@pytest.fixture(scope="module")
def ramp_rounds() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """20,001 rounds of a 1-8 ramp on a winning game (+5% a unit) that wins more at
    higher counts."""
    rng = np.random.default_rng(11)
    tcs = rng.normal(0.0, 2.0, 20_001)
    bets = 10.0 * np.clip(np.floor(tcs), 1, 8)
    outcome = rng.choice([-1.0, 0.0, 1.0, 1.5], size=tcs.size, p=[0.44, 0.09, 0.43, 0.04])
    nets = bets * outcome + bets * 0.005 * tcs  # a little more per true count
    return nets, bets, tcs


class TestDesirabilityIndex:
    """DI = 1000 EV/SD and SCORE = DI^2 (Schlesinger, Blackjack Attack; CVCX)."""

    def test_di_is_1000_ev_over_sd_and_its_square_is_score(self):
        nets = np.array([10.0] * 51 + [-10.0] * 49)
        m = player_metrics(stats_from(nets), 0, 1000.0)
        assert m["di"] == pytest.approx(1000 * 0.02 / np.std(nets / 10.0, ddof=1))
        assert m["di"] ** 2 == pytest.approx(m["score"], rel=1e-12)

    def test_it_holds_for_a_ramp_too(self, ramp_rounds):
        m = player_metrics(stats_of_rounds(*ramp_rounds, min_bet=10.0), 0, 1e5)
        assert m["ev_per_unit"] > 0
        assert m["di"] ** 2 == pytest.approx(m["score"], rel=1e-12)
        # Units cancel: EV/SD in money is EV/SD in units.
        assert m["di"] == pytest.approx(1000 * m["ev_per_round"] / m["sd_per_round"], rel=1e-9)

    def test_a_losing_game_has_a_negative_di_and_scores_0(self, nets):
        m = player_metrics(stats_from(nets), 0, 1000.0)
        assert m["di"] < 0 and m["score"] == 0.0


class TestBankrollForRisk:
    def test_each_bankroll_fed_back_into_the_risk_formula_gives_its_risk(self, ramp_rounds):
        m = player_metrics(stats_of_rounds(*ramp_rounds, min_bet=10.0), 0, 1e5)
        ev, var = m["ev_per_round"], m["sd_per_round"] ** 2
        assert [row["risk_of_ruin"] for row in m["bankroll_for_risk"]] == list(RISKS)
        for row in m["bankroll_for_risk"]:
            assert risk_of_ruin(ev, var, row["bankroll"]) == pytest.approx(row["risk_of_ruin"])
            # ... and by the formula written out: exp(-2 EV B / SD^2).
            assert math.exp(-2 * ev * row["bankroll"] / var) == pytest.approx(row["risk_of_ruin"])

    def test_13_5_percent_is_the_bankroll_of_variance_over_ev(self, ramp_rounds):
        m = player_metrics(stats_of_rounds(*ramp_rounds, min_bet=10.0), 0, 1e5)
        kelly = m["sd_per_round"] ** 2 / m["ev_per_round"]
        # e^-2 = 13.53%: 13.5% asks for a hair more than variance / EV.
        assert m["bankroll_for_risk"][2]["bankroll"] == pytest.approx(kelly, rel=2e-3)

    def test_a_losing_game_has_no_bankroll_for_any_risk(self, nets):
        m = player_metrics(stats_from(nets), 0, 1000.0)
        assert [row["bankroll"] for row in m["bankroll_for_risk"]] == [None, None, None]


class TestPerHour:
    def test_win_and_sd_per_hour_at_the_pace_given(self, nets):
        m = player_metrics(stats_from(nets), 0, 1000.0, rounds_per_hour=60.0)
        assert m["rounds_per_hour"] == 60.0
        assert m["win_per_hour"] == pytest.approx(60.0 * nets.mean(), rel=1e-12)
        assert m["sd_per_hour"] == pytest.approx(math.sqrt(60.0) * nets.std(ddof=1), rel=1e-12)

    def test_the_default_pace_is_100_rounds(self, nets):
        m = player_metrics(stats_from(nets), 0, 1000.0)
        assert m["win_per_hour"] == pytest.approx(100.0 * m["ev_per_round"], rel=1e-12)


class TestFlatEdge:
    def test_it_is_the_mean_result_per_unit_of_the_rounds_own_bet(self, ramp_rounds):
        nets, bets, tcs = ramp_rounds
        m = player_metrics(stats_of_rounds(nets, bets, tcs, min_bet=10.0), 0, 1e5)
        assert m["flat_edge"] == pytest.approx((nets / bets).mean(), rel=1e-12)
        assert m["flat_sd"] == pytest.approx((nets / bets).std(ddof=1), rel=1e-12)
        # The ramp's EV per unit is larger: it bets more where the game is better.
        assert m["ev_per_unit"] > m["flat_edge"]


class TestMergedEqualsOneRun:
    """Every figure issue 10 added comes from sums, so shards merge into one run's figures."""

    def test_every_new_figure_of_merged_shards_equals_the_whole_runs(self, ramp_rounds):
        nets, bets, tcs = ramp_rounds
        whole = stats_of_rounds(nets, bets, tcs, 10.0)
        parts = [
            stats_of_rounds(n, b, t, 10.0)
            for n, b, t in zip(*(np.array_split(a, 7) for a in ramp_rounds), strict=True)
        ]
        merged = merge(*parts)
        one, many = player_metrics(whole, 0, 1e5, 80.0), player_metrics(merged, 0, 1e5, 80.0)
        for key in ("di", "score", "win_per_hour", "sd_per_hour", "flat_edge", "flat_sd"):
            assert many[key] == pytest.approx(one[key], rel=1e-9), key
        for a, b in zip(one["bankroll_for_risk"], many["bankroll_for_risk"], strict=True):
            assert b["bankroll"] == pytest.approx(a["bankroll"], rel=1e-9)
        rows_one, rows_many = true_count_table(whole, 0), true_count_table(merged, 0)
        assert [r["true_count"] for r in rows_one] == [r["true_count"] for r in rows_many]
        for a, b in zip(rows_one, rows_many, strict=True):
            assert a["rounds"] == b["rounds"]
            for key in ("frequency", "bet_per_round", "ev_per_round", "sd_per_round", "flat_edge"):
                assert b[key] == pytest.approx(a[key], rel=1e-9, abs=1e-12), (key, a["true_count"])


class TestTrueCountTableRows:
    def test_a_row_has_its_frequency_average_bet_ev_and_sd(self, ramp_rounds):
        nets, bets, tcs = ramp_rounds
        rows = true_count_table(stats_of_rounds(nets, bets, tcs, 10.0), 0)
        assert sum(r["frequency"] for r in rows) == pytest.approx(1.0)
        for r in rows:
            mask = np.clip(np.floor(tcs), k.TC_MIN, k.TC_MAX) == r["true_count"]
            assert r["rounds"] == mask.sum()
            assert r["frequency"] == pytest.approx(mask.mean())
            assert r["bet_per_round"] == pytest.approx(bets[mask].mean())
            assert r["ev_per_round"] == pytest.approx(nets[mask].mean())
            if mask.sum() > 1:
                assert r["sd_per_round"] == pytest.approx(nets[mask].std(ddof=1))
                assert r["flat_sd"] == pytest.approx((nets / bets)[mask].std(ddof=1))
            assert r["flat_edge"] == pytest.approx((nets / bets)[mask].mean())


class TestStoredStats:
    def test_stats_with_other_sums_are_refused_not_misread(self, nets):
        data = stats_from(nets[:10]).to_dict()
        data["sums"] = [row[:7] for row in data["sums"]]  # an engine before flat_edge
        with pytest.raises(ValueError, match="sums"):
            Stats.from_dict(data)

    def test_a_shard_round_trips(self, ramp_rounds):
        s = stats_of_rounds(*ramp_rounds, min_bet=10.0)
        again = Stats.from_dict(s.to_dict())
        assert np.array_equal(again.sums, s.sums) and np.array_equal(again.tc_table, s.tc_table)

    def test_stored_stats_carry_the_format_version(self, nets):
        assert stats_from(nets[:10]).to_dict()["format"] == STATS_FORMAT

    def test_stats_stored_without_a_version_by_release_16_are_read(self, ramp_rounds):
        # Every release up to release-16 stored the same layout with no "format" key:
        # a shard one of its workers stored during a deploy is merged as it is.
        s = stats_of_rounds(*ramp_rounds, min_bet=10.0)
        data = s.to_dict()
        del data["format"]
        again = Stats.from_dict(data)
        assert np.array_equal(again.sums, s.sums) and np.array_equal(again.counters, s.counters)

    @pytest.mark.parametrize("version", [STATS_FORMAT + 1, 0, "1"])
    def test_stats_of_a_version_this_engine_does_not_read_are_refused(self, nets, version):
        data = stats_from(nets[:10]).to_dict()
        data["format"] = version
        with pytest.raises(ValueError, match="format"):
            Stats.from_dict(data)
