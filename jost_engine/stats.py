"""Mergeable statistics of a simulation, and the metrics derived from them.

A `Stats` holds only sums, sums of squares and counts, so shards merge exactly by
addition (never an average of averages): the merged statistics are those of one run that
played every shard's rounds. Every metric (EV, SD, intervals, frequencies, risk of ruin,
N0, SCORE) is computed from the merged sums, at the end.

Formulas (n rounds, per-round net x in money, or u = x / min_bet in initial units):
  mean = sum(x) / n;  variance = (sum(x^2) - n * mean^2) / (n - 1);  SD = sqrt(variance)
  95% interval of the mean: mean +- 1.96 * SD / sqrt(n)
  player_edge = sum(net) / total_wagered (JOST's definition; insurance bets count as wagered)
  N0 = variance / mean^2: rounds for the expected win to equal one standard deviation
  DI = 1000 * mean / SD (units cancel), the desirability index; SCORE = DI^2 when DI > 0,
    else 0: the win per 100 rounds of a Kelly bettor with a bankroll of 10,000 units
    (Schlesinger, Blackjack Attack; CVCX reports both); 10^6 / N0
  risk of ruin = exp(-2 * mean * bankroll / variance) in money, the diffusion (Brownian)
    approximation for an unlimited session; 1 when mean <= 0. Solved for the bankroll:
    bankroll_for_risk(r) = -variance * ln(r) / (2 * mean) (null when mean <= 0). Both are
    jost_engine.risk's, with the rest of the risk figures.
  per hour at R rounds an hour: mean * R and SD * sqrt(R) (rounds independent)
  flat_edge = mean of f = x / (the round's initial bet, every spot): the game's edge per
    unit bet whatever the ramp bet, beside ev_per_unit (the ramp's)
Frequencies: win, loss, push, bust and double per hand played (a split adds hands; every
hand is exactly one of win, loss or push, a surrender being a loss); blackjack, split,
surrender and insurance per spot played (the initial hands dealt).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from jost_engine import kernel as k
from jost_engine import risk
from jost_engine.risk import RISKS

HAND_LOG_CAP = 10_000
Z95 = 1.96
# The version of Stats.to_dict's layout, stored with every shard's statistics: a shard
# stored by a worker of another release (a deploy with a job in flight) is read only when
# its version is one this engine knows, and dealt again from its seed otherwise, rather
# than merged into fields that mean something else. Raise it whenever a field is added,
# removed or changes meaning, and keep reading the versions whose layout still fits.
# Format 2 added counters after format 1's 16: bets_capped, then the Spanish 21 ones
# (kernel.COUNTER_NAMES; issue 20).
STATS_FORMAT = 2
FORMAT_1_COUNTERS = 16
# Versions from_dict reads. None: no version at all, as every release up to release-16
# stored them; their layout is format 1's (the shape checks in from_dict still guard it),
# whose counters lack format 2's: read as 0, since no bet had rules and no game was
# Spanish 21 then.
READABLE_STATS_FORMATS: frozenset[int | None] = frozenset({None, 1, 2})


@dataclass
class Stats:
    """Sums and counts of one or more sessions over the same players (seat order).

    counters int64[P, N_COUNTERS] (kernel.COUNTER_NAMES), sums float64[P, N_SUMS]
    (kernel.SUM_NAMES), tc_table float64[P, N_TC, N_TC_FIELDS] (rounds, net, net^2,
    wagered, initial bets, f, f^2 by true count floored and clipped to TC_MIN..TC_MAX; f
    as S_FLAT), rounds played and asked, sessions that
    ended with every player broke, players broke at the end of their session, and the first
    HAND_LOG_CAP logged hands with the count of every hand that was logged or would have been.
    """

    counters: np.ndarray
    sums: np.ndarray
    tc_table: np.ndarray
    rounds_played: int
    rounds_asked: int
    sessions: int = 1
    sessions_all_broke: int = 0
    players_broke: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    hand_log: list[dict[str, Any]] = field(default_factory=list)
    hands_logged: int = 0
    # Sessions of a config with `sessions`: each player's bankroll at the end of every
    # session, float64[P, sessions] in session order (empty otherwise). Kept whole because
    # percentiles do not merge from sums; MAX_SESSIONS bounds it.
    final_bankrolls: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))

    @property
    def n_players(self) -> int:
        return self.counters.shape[0]

    def counter(self, player: int, name: str) -> int:
        return int(self.counters[player, k.COUNTER_NAMES.index(name)])

    def total(self, player: int, name: str) -> float:
        return float(self.sums[player, k.SUM_NAMES.index(name)])

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (floats round-trip exactly), so a service can store a shard's stats."""
        return {
            "format": STATS_FORMAT,
            "counters": self.counters.tolist(),
            "sums": self.sums.tolist(),
            "tc_table": self.tc_table.tolist(),
            "rounds_played": self.rounds_played,
            "rounds_asked": self.rounds_asked,
            "sessions": self.sessions,
            "sessions_all_broke": self.sessions_all_broke,
            "players_broke": self.players_broke.tolist(),
            "hand_log": self.hand_log,
            "hands_logged": self.hands_logged,
            "final_bankrolls": self.final_bankrolls.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Stats:
        """The statistics to_dict wrote, in this or an older readable format; ValueError
        for a format version this engine does not read or a shape it does not keep."""
        version = data.get("format")
        if version not in READABLE_STATS_FORMATS:
            raise ValueError(
                f"stats of format {version!r}; this engine reads formats "
                f"{sorted(v for v in READABLE_STATS_FORMATS if v is not None)} "
                "and unversioned ones"
            )
        sums = np.array(data["sums"], dtype=np.float64)
        tc_table = np.array(data["tc_table"], dtype=np.float64)
        if sums.size == 0:  # no players: tolist() kept no columns
            sums, tc_table = sums.reshape(0, k.N_SUMS), tc_table.reshape(0, k.N_TC, k.N_TC_FIELDS)
        # Stats stored by an engine with other sums (a shard finished before a deploy)
        # would otherwise be reshaped into the wrong columns without a word.
        if sums.ndim != 2 or sums.shape[1:] != (k.N_SUMS,):
            raise ValueError(f"stats sums of shape {sums.shape}, this engine keeps {k.N_SUMS}")
        if tc_table.ndim != 3 or tc_table.shape[1:] != (k.N_TC, k.N_TC_FIELDS):
            raise ValueError(
                f"stats tc_table of shape {tc_table.shape}, this engine keeps "
                f"(players, {k.N_TC}, {k.N_TC_FIELDS})"
            )
        counters = np.array(data["counters"], dtype=np.int64)
        if version in (None, 1) and counters.ndim == 2 and counters.shape[1] == FORMAT_1_COUNTERS:
            # Format 1's counters, the first columns of today's: bets_capped and the
            # Spanish 21 counters were 0 then (no betting rules, no Spanish game).
            extra = np.zeros((counters.shape[0], k.N_COUNTERS - FORMAT_1_COUNTERS), np.int64)
            counters = np.concatenate([counters, extra], axis=1)
        return cls(
            counters=counters.reshape(-1, k.N_COUNTERS),
            sums=sums,
            tc_table=tc_table,
            rounds_played=int(data["rounds_played"]),
            rounds_asked=int(data["rounds_asked"]),
            sessions=int(data["sessions"]),
            sessions_all_broke=int(data["sessions_all_broke"]),
            players_broke=np.array(data["players_broke"], dtype=np.int64),
            hand_log=list(data["hand_log"]),
            hands_logged=int(data["hands_logged"]),
            final_bankrolls=_final_bankrolls(data.get("final_bankrolls")),
        )


def merge(*parts: Stats) -> Stats:
    """The exact combination of sessions: sums add, hand logs concatenate up to the cap.

    Order matters only for the hand log (and for float rounding in the last bit), so a
    service merges shards in shard order.
    """
    if not parts:
        raise ValueError("merge needs at least one Stats")
    shapes = {p.counters.shape for p in parts}
    if len(shapes) != 1:
        raise ValueError(f"cannot merge stats of different tables: {sorted(shapes)}")
    log: list[dict[str, Any]] = []
    for p in parts:
        if len(log) < HAND_LOG_CAP:
            log.extend(p.hand_log[: HAND_LOG_CAP - len(log)])
    return Stats(
        counters=np.asarray(np.sum([p.counters for p in parts], axis=0, dtype=np.int64)),
        sums=_ordered_sum([p.sums for p in parts]),
        tc_table=_ordered_sum([p.tc_table for p in parts]),
        rounds_played=sum(p.rounds_played for p in parts),
        rounds_asked=sum(p.rounds_asked for p in parts),
        sessions=sum(p.sessions for p in parts),
        sessions_all_broke=sum(p.sessions_all_broke for p in parts),
        players_broke=np.asarray(np.sum([p.players_broke for p in parts], axis=0, dtype=np.int64)),
        hand_log=log,
        hands_logged=sum(p.hands_logged for p in parts),
        final_bankrolls=_concatenated([p.final_bankrolls for p in parts]),
    )


def _final_bankrolls(rows: list[list[float]] | None) -> np.ndarray:
    if not rows:
        return np.zeros((0, 0))
    return np.array(rows, dtype=np.float64)


def _concatenated(blocks: list[np.ndarray]) -> np.ndarray:
    # Sessions in shard order; parts without sessions (shape (0, 0)) add none.
    kept = [b for b in blocks if b.size]
    return np.concatenate(kept, axis=1) if kept else np.zeros((0, 0))


def _ordered_sum(arrays: list[np.ndarray]) -> np.ndarray:
    # Left to right, one addition at a time: np.sum may pair terms differently by size,
    # and the same shards must give the same bits however they are grouped in a call.
    out = arrays[0].copy()
    for a in arrays[1:]:
        out = out + a
    return out


# ---------------------------------------------------------------------------------------
# Derived metrics
# ---------------------------------------------------------------------------------------
def finite(x: float | None) -> float | None:
    """JSON has no NaN or infinity: those become null."""
    if x is None or not math.isfinite(x):
        return None
    return float(x)


def finite_number(value: Any) -> float | None:
    """`value` as a float when it is a finite number (a bool is not one), else None: what
    a request or a stored document holds is read through this before any arithmetic."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return finite(value)


def mean_sd(total: float, total_sq: float, n: int) -> tuple[float | None, float | None]:
    """Mean and sample SD from a sum and a sum of squares (None where undefined)."""
    if n <= 0:
        return None, None
    mean = total / n
    if n < 2:
        return mean, None
    variance = max(total_sq - n * mean * mean, 0.0) / (n - 1)
    return mean, math.sqrt(variance)


def interval(mean: float | None, sd: float | None, n: int) -> list[float] | None:
    if mean is None or sd is None or n <= 0:
        return None
    half = Z95 * sd / math.sqrt(n)
    return [mean - half, mean + half]


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def risk_of_ruin(ev: float | None, variance: float | None, bankroll: float) -> float | None:
    """jost_engine.risk.risk_of_ruin (the formula lives there), None when undefined."""
    if ev is None or not variance:
        return None
    return risk.risk_of_ruin(ev, math.sqrt(variance), bankroll)


def bankroll_for_risk(ev: float | None, variance: float | None, r: float) -> float | None:
    """jost_engine.risk.bankroll_for_risk, None when undefined (no variance, ev <= 0)."""
    if ev is None or not variance:
        return None
    return risk.bankroll_for_risk(ev, math.sqrt(variance), r)


def n0_di_score(
    ev: float | None, sd: float | None
) -> tuple[float | None, float | None, float | None]:
    """(N0, DI, SCORE) of a game with this EV and SD per round, in any one unit (each is
    scale-free). N0 divides by the EV, DI by the SD: undefined (None) when that is 0, as in
    a run too short for any spread. SCORE is DI squared by definition, computed from DI so
    the two can never disagree; a game without an edge scores 0 (a Kelly bettor bets
    nothing)."""
    n0 = di = score = None
    if ev and sd:
        n0 = sd * sd / (ev * ev)
    if ev is not None and sd:
        di = 1000.0 * ev / sd
        score = di * di if di > 0 else 0.0
    return n0, di, score


def player_metrics(
    stats: Stats,
    player: int,
    initial_bankroll: float,
    rounds_per_hour: float = 100.0,
    spanish: bool = False,
) -> dict[str, Any]:
    """Every derived figure of one player, JSON-ready (null where undefined). spanish: a
    Spanish 21 game (Rules.spanish_game), whose counters and frequencies are added (the
    common game's results leave them out: they are always 0 there)."""
    c = {name: int(stats.counters[player, i]) for i, name in enumerate(k.COUNTER_NAMES)}
    if not spanish:
        c = dict(list(c.items())[: k.N_COUNTERS_COMMON])
    s = {name: float(stats.sums[player, i]) for i, name in enumerate(k.SUM_NAMES)}
    n = c["rounds"]
    ev, sd = mean_sd(s["net"], s["net_sq"], n)
    ev_u, sd_u = mean_sd(s["unit_net"], s["unit_net_sq"], n)
    flat, flat_sd = mean_sd(s["flat"], s["flat_sq"], n)
    hands, spots = c["hands"], c["spots"]
    variance = sd * sd if sd is not None else None
    n0, di, score = n0_di_score(ev_u, sd_u)
    ror = risk_of_ruin(ev, variance, initial_bankroll)
    frequencies = {
        "win": ratio(c["win"], hands),
        "loss": ratio(c["loss"], hands),
        "push": ratio(c["push"], hands),
        "bust": ratio(c["bust"], hands),
        "double": ratio(c["double"], hands),
        "blackjack": ratio(c["blackjack"], spots),
        "split": ratio(c["split"], spots),
        "surrender": ratio(c["surrender"], spots),
        "insurance": ratio(c["insurance"], spots),
        "insurance_won": ratio(c["insurance_won"], c["insurance"]),
        "dealer_blackjack": ratio(c["dealer_blackjack"], spots),
        # The dealer draws only while some hand stands, so this is the bust rate of the
        # rounds as they were played, not the dealer's unconditional bust probability.
        "dealer_bust": ratio(c["dealer_bust"], spots),
    }
    if spanish:
        # Spanish 21: the hands paid each 21 bonus, rescued and redoubled, per hand; the
        # super bonuses won per hand and the envy bonuses received per round.
        for name in k.COUNTER_NAMES[k.N_COUNTERS_COMMON :]:
            frequencies[name] = ratio(c[name], n if name == "envy_bonus" else hands)
    return {
        "rounds_played": n,
        "hands_played": hands,
        "spots_played": spots,
        "total_wagered": s["wagered"],
        "net_gain_loss": s["net"],
        "player_edge": finite(ratio(s["net"], s["wagered"])),
        "average_bet": finite(ratio(s["initial_bet"], spots)),
        "ev_per_round": finite(ev),
        "sd_per_round": finite(sd),
        "ev_per_round_95ci": interval(ev, sd, n),
        "ev_per_unit": finite(ev_u),
        "sd_per_unit": finite(sd_u),
        "ev_per_unit_95ci": interval(ev_u, sd_u, n),
        "frequencies": {key: finite(v) for key, v in frequencies.items()},
        "counts": c,
        "risk_of_ruin": finite(ror),
        "bankroll_for_risk": [
            {"risk_of_ruin": r, "bankroll": finite(bankroll_for_risk(ev, variance, r))}
            for r in RISKS
        ],
        "n0": finite(n0),
        "di": finite(di),
        "score": finite(score),
        "rounds_per_hour": rounds_per_hour,
        "win_per_hour": finite(ev * rounds_per_hour) if ev is not None else None,
        "sd_per_hour": finite(sd * math.sqrt(rounds_per_hour)) if sd is not None else None,
        "flat_edge": finite(flat),
        "flat_sd": finite(flat_sd),
        "flat_edge_95ci": interval(flat, flat_sd, n),
    }


PERCENTILES = (5, 25, 50, 75, 95)


def wilson_interval(successes: int, n: int, z: float = Z95) -> list[float] | None:
    """The Wilson score interval of a proportion: unlike mean +- z SE it stays inside
    [0, 1] and is not empty when no session (or every one) went broke."""
    if n <= 0:
        return None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [max(0.0, centre - half), min(1.0, centre + half)]


def session_metrics(
    stats: Stats, player: int, initial_bankroll: float | None = None
) -> dict[str, Any]:
    """What a study of K sessions is for, per player: trip ruin (the fraction of sessions
    in which the player went broke, with its 95% Wilson interval), the chance of loss (the
    fraction that ended below initial_bankroll, likewise; null without it) and the
    percentiles of the bankroll at the end of a session (linear interpolation between
    order statistics)."""
    n = stats.sessions
    broke = int(stats.players_broke[player]) if stats.players_broke.size else 0
    finals = stats.final_bankrolls[player] if stats.final_bankrolls.size else np.zeros(0)
    behind = None
    if initial_bankroll is not None and finals.size:
        behind = int((finals < initial_bankroll).sum())
    percentiles = (
        {
            str(q): float(v)
            for q, v in zip(PERCENTILES, np.percentile(finals, PERCENTILES), strict=True)
        }
        if finals.size
        else None
    )
    return {
        "sessions": n,
        "sessions_broke": broke,
        "trip_ruin": ratio(broke, n),
        "trip_ruin_95ci": wilson_interval(broke, n),
        # Measured over the sessions: a progression's cost shows here and in trip_ruin,
        # never in its edge (docs/RESULTS.md, "Betting by rules").
        "sessions_behind": behind,
        "chance_of_loss": None if behind is None else ratio(behind, finals.size),
        "chance_of_loss_95ci": None if behind is None else wilson_interval(behind, finals.size),
        "final_bankroll_mean": float(finals.mean()) if finals.size else None,
        "final_bankroll_percentiles": percentiles,
    }


def true_count_table(stats: Stats, player: int) -> list[dict[str, Any]]:
    """Rows by whole true count, the floor as the ramp reads it (kernel._tc_bin; clipped at
    the ends), that saw at least one round."""
    rows = []
    total = float(stats.tc_table[player, :, k.T_ROUNDS].sum())
    for b in range(k.N_TC):
        t = stats.tc_table[player, b]
        n = int(t[k.T_ROUNDS])
        if n == 0:
            continue
        ev, sd = mean_sd(float(t[k.T_NET]), float(t[k.T_NET_SQ]), n)
        flat, flat_sd = mean_sd(float(t[k.T_FLAT]), float(t[k.T_FLAT_SQ]), n)
        rows.append(
            {
                "true_count": b + k.TC_MIN,
                "rounds": n,
                "frequency": n / total,
                "net": float(t[k.T_NET]),
                "wagered": float(t[k.T_WAGERED]),
                "bet_per_round": float(t[k.T_INITIAL_BET]) / n,
                "ev_per_round": finite(ev),
                "sd_per_round": finite(sd),
                "edge": finite(ratio(float(t[k.T_NET]), float(t[k.T_WAGERED]))),
                "flat_edge": finite(flat),
                "flat_sd": finite(flat_sd),
            }
        )
    return rows
