"""Counting, betting and index plays as kernel arrays, built once per session.

The kernel's Players bundle, which simulate.new_session hands the kernel: how each player
plays (the resolved action tables it is given), counts (the tags, the true-count
estimation and rounding, the initial running count), bets (the bet and spots ramps as one
table of tiers, max_bet folded in, the count the ramp reads, wonging) and deviates from
the chart (jost_engine.deviations).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from jost_engine import kernel as k
from jost_engine.config import BET_ACTIONS, BET_RESULTS, BettingStrategy, Config, Player
from jost_engine.config.betting import uses_count
from jost_engine.config.fields import MAX_BET_MULTIPLIER
from jost_engine.deviations import deviation_tables, expand, max_plays_per_cell

_EST = {"exact": k.EST_EXACT, "half": k.EST_HALF, "whole": k.EST_WHOLE}
_ROUND = {"none": k.RND_NONE, "floor": k.RND_FLOOR, "truncate": k.RND_TRUNC, "round": k.RND_ROUND}


def tiers(betting: BettingStrategy) -> list[tuple[float, float, int]]:
    """(threshold, multiplier, spots) from -inf up: the bet ramp and the spots ramp on one
    set of thresholds, the multiplier capped at max_bet / min_bet.

    One walk over both sorted ramps: linear in their entries (a search of each ramp for
    every threshold made a 30,000-tier ramp cost seconds on every shard)."""
    spots_ramp = betting.spots_ramp or ((-np.inf, betting.num_hands),)
    cap = np.inf if betting.max_bet is None else betting.max_bet / betting.min_bet
    thresholds = sorted({t for t, _ in betting.ramp} | {t for t, _ in spots_ramp})
    out = []
    b = s = 0  # the tier of each ramp in force at the current threshold
    for threshold in thresholds:
        while b + 1 < len(betting.ramp) and betting.ramp[b + 1][0] <= threshold:
            b += 1
        while s + 1 < len(spots_ramp) and spots_ramp[s + 1][0] <= threshold:
            s += 1
        out.append((threshold, min(betting.ramp[b][1], cap), int(spots_ramp[s][1])))
    return out


def ramp_reads_running(player: Player) -> bool:
    """A ramp reads the running count when it says so, or by default for an unbalanced
    system."""
    if player.betting.ramp_count is not None:
        return player.betting.ramp_count == "running"
    return player.counting.unbalanced


def wongs(betting: BettingStrategy) -> bool:
    return betting.wong_in is not None or betting.wong_out is not None


def bets_by_count(betting: BettingStrategy) -> bool:
    """Does the bet depend on the count: a ramp (bet or spots) of more than one tier,
    wonging, or a rule with a true-count condition?"""
    return len(tiers(betting)) > 1 or wongs(betting) or uses_count(betting)


# A `last_result` the rules name, as the kernel's result codes it takes: a win is also a
# blackjack and a loss also a surrender (the round's net decides).
_RESULT_CODES = {
    "none": (k.RES_NONE,),
    "win": (k.RES_WIN, k.RES_BLACKJACK),
    "blackjack": (k.RES_BLACKJACK,),
    "loss": (k.RES_LOSS, k.RES_SURRENDER),
    "surrender": (k.RES_SURRENDER,),
    "push": (k.RES_PUSH,),
}
assert tuple(_RESULT_CODES) == BET_RESULTS


def rule_arrays(
    bettings: Sequence[BettingStrategy],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Betting by rules as the kernel reads it: bet_rule_n int64[P], bet_rule_i int64[P,
    R, N_BR_I], bet_rule_f float64[P, R, N_BR_F], bet_steps float64[P, K], bet_cap
    float64[P] (the most units a rule may bet: max_bet / min_bet, at most
    MAX_BET_MULTIPLIER, which the config's bounds keep a finite amount of money)."""
    n = len(bettings)
    width = max(1, max(len(b.rules) for b in bettings))
    n_steps = max(len(b.steps) for b in bettings)
    rule_n = np.array([len(b.rules) for b in bettings], dtype=np.int64)
    rule_i = np.zeros((n, width, k.N_BR_I), dtype=np.int64)
    rule_f = np.zeros((n, width, k.N_BR_F))
    # Every bound open: the target and the maxima (odd fields) inf, the minima -inf.
    rule_f[:, :, k.BRF_TARGET :: 2] = np.inf
    rule_f[:, :, k.BRF_TC_MIN :: 2] = -np.inf
    steps = np.ones((n, n_steps))
    cap = np.full(n, float(MAX_BET_MULTIPLIER))
    for i, b in enumerate(bettings):
        steps[i, : len(b.steps)] = b.steps
        if b.max_bet is not None:
            cap[i] = min(cap[i], b.max_bet / b.min_bet)
        for r, rule in enumerate(b.rules):
            rule_i[i, r, k.BRI_ACTION] = BET_ACTIONS.index(rule.action)
            results = rule.last_result or BET_RESULTS
            rule_i[i, r, k.BRI_RESULTS] = sum(
                {1 << code for name in results for code in _RESULT_CODES[name]}
            )
            row = rule_f[i, r]
            row[k.BRF_VALUE] = rule.value
            rule_i[i, r, k.BRI_CONDITIONS] = sum(
                bit
                for bit, pair in (
                    (k.COND_TC, (rule.true_count_min, rule.true_count_max)),
                    (k.COND_WINS, (rule.win_streak_min, rule.win_streak_max)),
                    (k.COND_LOSSES, (rule.loss_streak_min, rule.loss_streak_max)),
                    (k.COND_NET, (rule.net_min, rule.net_max)),
                    (k.COND_CYCLE, (rule.cycle_net_min, rule.cycle_net_max)),
                    (k.COND_STEP, (rule.step_min, rule.step_max)),
                )
                if pair != (None, None)
            )
            for field, value in (
                (k.BRF_TARGET, rule.cycle_target),
                (k.BRF_TC_MIN, rule.true_count_min),
                (k.BRF_TC_MAX, rule.true_count_max),
                (k.BRF_WINS_MIN, rule.win_streak_min),
                (k.BRF_WINS_MAX, rule.win_streak_max),
                (k.BRF_LOSSES_MIN, rule.loss_streak_min),
                (k.BRF_LOSSES_MAX, rule.loss_streak_max),
                (k.BRF_NET_MIN, rule.net_min),
                (k.BRF_NET_MAX, rule.net_max),
                (k.BRF_CYCLE_MIN, rule.cycle_net_min),
                (k.BRF_CYCLE_MAX, rule.cycle_net_max),
                (k.BRF_STEP_MIN, rule.step_min),
                (k.BRF_STEP_MAX, rule.step_max),
            ):
                if value is not None:
                    row[field] = value
    return rule_n, rule_i, rule_f, steps, cap


def initial_progress(bettings: Sequence[BettingStrategy]) -> np.ndarray:
    """Seats.progress at a session's start: step 0's bet last, no result, nothing won."""
    progress = np.zeros((len(bettings), k.N_PG))
    progress[:, k.PG_LAST] = [b.steps[0] for b in bettings]
    progress[:, k.PG_RESULT] = k.RES_NONE
    return progress


def tag_row(tags: Sequence[float], scale: float) -> np.ndarray:
    """A system's tags by the kernel's rank index (1..10, the ace at 1), times scale."""
    # config tags run 2..9, 10, A.
    row = np.zeros(11, dtype=np.float64)
    for i, rank in enumerate(range(2, 11)):
        row[rank] = tags[i] * scale
    row[1] = tags[9] * scale
    return row


def player_arrays(
    config: Config,
    act: np.ndarray,
    act_poor: np.ndarray,
    codes: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
    ins_thr: np.ndarray,
) -> k.Players:
    """The kernel's Players bundle. act/act_poor: the players' resolved action tables;
    codes: each player's chart code tables (chart_arrays), which the deviation tables
    resolve their plays against; ins_thr: each player's insurance index (inf: never)."""
    players = config.players
    n = len(players)
    by_player = [tiers(p.betting) for p in players]
    width = max(len(t) for t in by_player)
    ramp_thr = np.full((n, width), np.inf)
    ramp_mult = np.ones((n, width))
    ramp_spots = np.ones((n, width), dtype=np.int64)
    ramp_n = np.zeros(n, dtype=np.int64)
    for i, rows in enumerate(by_player):
        for t, (threshold, mult, spots) in enumerate(rows):
            ramp_thr[i, t], ramp_mult[i, t], ramp_spots[i, t] = threshold, mult, spots
        ramp_n[i] = len(rows)

    cnt_i = np.zeros((n, k.N_CNT_I), dtype=np.int64)
    cnt_f = np.zeros((n, k.N_CNT_F), dtype=np.float64)
    for i, p in enumerate(players):
        b = p.betting
        cnt_i[i, k.CI_EST] = _EST[p.counting.deck_estimation]
        cnt_i[i, k.CI_ROUND] = _ROUND[p.counting.true_count_rounding]
        cnt_i[i, k.CI_RAMP_RUNNING] = ramp_reads_running(p)
        cnt_f[i, k.CF_IRC] = p.counting.initial_count(config.rules.decks)
        if wongs(b):
            # Only wong_out: come back in at the count that would not make one leave.
            wong_in = b.wong_in if b.wong_in is not None else b.wong_out
            wong_out = b.wong_out if b.wong_out is not None else -np.inf
            cnt_i[i, k.CI_WONG] = 1
            cnt_f[i, k.CF_WONG_IN], cnt_f[i, k.CF_WONG_OUT] = wong_in, wong_out

    plays = [expand(p.playing.deviations, config.rules) for p in players]
    slots = max(1, max(max_plays_per_cell(pl) for pl in plays))
    dev_n = np.zeros((n, 3, 22, 11), dtype=np.int8)
    dev_thr = np.zeros((n, 3, 22, 11, slots))
    dev_above = np.zeros((n, 3, 22, 11, slots), dtype=np.uint8)
    dev_act = np.full((n, 3, 3, 22, 11, slots + 1), -1, dtype=np.int8)
    dev_act_poor = np.full_like(dev_act, -1)
    for i, pl in enumerate(plays):
        if not pl:
            continue
        tables = deviation_tables(pl, codes[i], act[i], act_poor[i], config.rules, slots)
        dev_n[i], dev_thr[i], dev_above[i] = tables.n, tables.thr, tables.above
        dev_act[i], dev_act_poor[i] = tables.act, tables.act_poor
    rule_n, rule_i, rule_f, steps, cap = rule_arrays([p.betting for p in players])
    return k.Players(
        act=act,
        act_poor=act_poor,
        min_bet=np.array([p.betting.min_bet for p in players], dtype=np.float64),
        n_spots=np.array([p.betting.max_spots for p in players], dtype=np.int64),
        ramp_thr=ramp_thr,
        ramp_mult=ramp_mult,
        ramp_n=ramp_n,
        ramp_spots=ramp_spots,
        ins_thr=ins_thr,
        bet_rule_n=rule_n,
        bet_rule_i=rule_i,
        bet_rule_f=rule_f,
        bet_steps=steps,
        bet_cap=cap,
        tags=np.array([tag_row(p.counting.tags, p.counting.tag_scale) for p in players]),
        cnt_i=cnt_i,
        cnt_f=cnt_f,
        dev_n=dev_n,
        dev_thr=dev_thr,
        dev_above=dev_above,
        dev_act=dev_act,
        dev_act_poor=dev_act_poor,
    )
