"""Mergeable statistics: exact merges and the formulas of the derived metrics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from jost_engine import kernel as k
from jost_engine.stats import HAND_LOG_CAP, Stats, interval, mean_sd, merge, player_metrics


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
