"""Optimal bets: the ramp a counting run's true-count table calls for.

From the table (each whole true count's frequency, flat edge e and flat SD, per unit bet;
docs/RESULTS.md "True-count table") and the player's constraints, the bet at each count:

- Kelly: k * e / v with k = bankroll x kelly_fraction and v = flat_sd^2 (the bet that
  maximises the growth of log bankroll to second order: E[log(1 + b x)] ~ b e - b^2 v / 2),
  for a count with e > 0; the bottom bet (min_bet) at or below break-even.
- For a target risk of ruin: the shape that maximises DI (minimises N0) within the spread,
  clip(lambda * e / v, 1, spread) units of the bottom bet for the best lambda, scaled so
  that the diffusion risk of ruin exp(-2 * ev * bankroll / var) of the whole ramp meets
  the target (Schlesinger, Blackjack Attack, 3rd ed., on optimal betting and risk: the
  N0-minimising shape does not change with the risk, only its size). The scale is found
  by bisection; while no bet reaches max_bet the risk is exp(-c / scale), so one scale
  meets the target.

Then every bet is clipped to [bottom, min(max_bet, max_spread x bottom)] and rounded to a
multiple of `unit`. With `wong_out` the player leaves below the count that maximises the
expected win per round dealt (the best suffix of the table), so a lone lucky row at a
negative count is not played and a thin unlucky row at a high count does not send the
player away. The ramp's EV and variance per round played come from the table:
  P = sum f_c over the counts played;  ev = sum f_c b_c e_c / P;
  var = sum f_c b_c^2 (sd_c^2 + e_c^2) / P - ev^2
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jost_engine.config.fields import MAX_BET_MULTIPLIER, MAX_MONEY, MIN_MONEY
from jost_engine.config.players import MAX_ROUNDS_PER_HOUR, MIN_ROUNDS_PER_HOUR
from jost_engine.config.types import ConfigError
from jost_engine.stats import finite, finite_number, n0_di_score
from jost_engine.stats import risk_of_ruin as formula_risk

# Counts a table row may name: the engine's rows are -10..+10; a table given by hand may
# come from another simulator with a wider clip.
MAX_TABLE_COUNT = 100
MAX_FREQUENCY = 1e15
# A blackjack round's SD per unit bet is about 1.1; 0.01 is far below any game and keeps
# edge / variance (and every figure made of it) finite.
MIN_FLAT_SD = 0.01
# A hundredth of Kelly is as timid as a bettor gets; ten times Kelly is past ruin-bound.
MIN_KELLY, MAX_KELLY = 0.01, 10.0


@dataclass(frozen=True)
class CountRow:
    """One whole true count: its share of the rounds and the game's edge and SD per unit
    bet there."""

    true_count: int
    frequency: float
    flat_edge: float
    flat_sd: float


def per_count_rows(results: Mapping[str, Any], seat: int) -> list[CountRow]:
    """The true-count table of `players[seat]` in a results document, as CountRows.

    A row measured on a single round has no SD and is left out (it carries no information
    on the variance); `optimal_bets` renormalises the frequencies of the rows it is given.
    """
    players = results.get("players") or []
    if isinstance(seat, bool) or not isinstance(seat, int) or not 0 <= seat < len(players):
        raise ConfigError([("seat", f"no seat {seat!r}: the job has seats 0..{len(players) - 1}")])
    table = players[seat].get("true_count_table")
    if not table:
        raise ConfigError(
            [
                (
                    "job",
                    f'seat {seat} did not count: run the job with "analysis": "per_count" on '
                    "the player (or a ramp) so that its results carry a true-count table",
                )
            ]
        )
    rows = [
        CountRow(
            true_count=int(r["true_count"]),
            frequency=float(r["frequency"]),
            flat_edge=float(r["flat_edge"]),
            flat_sd=float(r["flat_sd"]),
        )
        for r in table
        if r.get("flat_sd") and r.get("flat_edge") is not None
    ]
    if not rows:
        raise ConfigError([("job", f"seat {seat}'s true-count table has no row of 2 rounds")])
    return rows


# ---------------------------------------------------------------------------------------
# Checking the inputs
# ---------------------------------------------------------------------------------------
def _check_rows(rows: Sequence[CountRow], problems: list[tuple[str, str]]) -> None:
    if not rows:
        problems.append(("table", "no rows"))
        return
    seen: set[int] = set()
    for i, r in enumerate(rows):
        at = f"table[{i}]"
        if r.true_count in seen:
            problems.append((f"{at}.true_count", f"true count {r.true_count} is given twice"))
        seen.add(r.true_count)
        if abs(r.true_count) > MAX_TABLE_COUNT:
            problems.append((f"{at}.true_count", f"must be -{MAX_TABLE_COUNT}..{MAX_TABLE_COUNT}"))
        if not (math.isfinite(r.frequency) and 0 <= r.frequency <= MAX_FREQUENCY):
            # Shares or counts of rounds alike: they are renormalised.
            problems.append((f"{at}.frequency", f"must be 0..{MAX_FREQUENCY:.0e}"))
        if not math.isfinite(r.flat_edge) or abs(r.flat_edge) > 1:
            problems.append((f"{at}.flat_edge", "must be -1..1 (an edge per unit bet)"))
        if not (math.isfinite(r.flat_sd) and MIN_FLAT_SD <= r.flat_sd <= 100):
            problems.append((f"{at}.flat_sd", f"must be {MIN_FLAT_SD}..100"))
    if not problems and sum(r.frequency for r in rows) <= 0:
        problems.append(("table", "the frequencies add up to 0"))


def _check(
    rows: Sequence[CountRow],
    bankroll: Any,
    min_bet: Any,
    max_bet: Any,
    max_spread: Any,
    unit: Any,
    kelly_fraction: Any,
    risk_target: Any,
    rounds_per_hour: Any,
) -> None:
    problems: list[tuple[str, str]] = []
    _check_rows(rows, problems)
    money = {"bankroll": bankroll, "min_bet": min_bet, "max_bet": max_bet, "unit": unit}
    for name, value in money.items():
        x = finite_number(value)
        # The config's money bounds (docs/CONFIG.md, Bounds): the betting strategy must paste
        # into a config, and a bankroll of 5e-324 made the certainty equivalent infinite.
        if x is None or not MIN_MONEY <= x <= MAX_MONEY:
            problems.append((name, f"must be a number {MIN_MONEY}..{MAX_MONEY:.0e}"))
    spread = finite_number(max_spread)
    if spread is None or not 1 <= spread <= MAX_BET_MULTIPLIER:
        problems.append(("max_spread", f"must be 1..{MAX_BET_MULTIPLIER}"))
    lo, hi, u = finite_number(min_bet), finite_number(max_bet), finite_number(unit)
    if lo and hi and lo > hi:
        problems.append(("min_bet", f"must be at most max_bet ({hi:g}), got {lo:g}"))
    in_bounds = [x is not None and MIN_MONEY <= x <= MAX_MONEY for x in (lo, u)]
    if all(in_bounds) and lo and u and abs(lo / u - round(lo / u)) > 1e-9:
        problems.append(("min_bet", f"must be a multiple of the unit ({u:g}), got {lo:g}"))
    if u and lo and u > (hi or lo) and not problems:
        problems.append(("unit", f"must be at most max_bet ({hi:g})"))
    if (kelly_fraction is None) == (risk_target is None):
        problems.append(
            (
                "kelly_fraction" if kelly_fraction is None else "risk_of_ruin",
                "give exactly one of kelly_fraction and risk_of_ruin",
            )
        )
    elif kelly_fraction is not None:
        k = finite_number(kelly_fraction)
        if k is None or not MIN_KELLY <= k <= MAX_KELLY:
            problems.append(("kelly_fraction", f"must be {MIN_KELLY}..{MAX_KELLY}"))
    else:
        r = finite_number(risk_target)
        if r is None or not 0 < r < 1:
            problems.append(("risk_of_ruin", "must be more than 0 and less than 1"))
    rph = finite_number(rounds_per_hour)
    if rph is None or not MIN_ROUNDS_PER_HOUR <= rph <= MAX_ROUNDS_PER_HOUR:
        problems.append(
            ("rounds_per_hour", f"must be {MIN_ROUNDS_PER_HOUR}..{MAX_ROUNDS_PER_HOUR}")
        )
    if problems:
        raise ConfigError(problems)


# ---------------------------------------------------------------------------------------
# The ramp's figures from the table
# ---------------------------------------------------------------------------------------
def ramp_ev_variance(rows: Sequence[CountRow], bets: Sequence[float | None]) -> tuple[float, float]:
    """EV and variance per round played of betting bets[i] at rows[i] (None: wonged out,
    not played), from the table alone."""
    played = total = second = 0.0
    for r, b in zip(rows, bets, strict=True):
        if b is None:
            continue
        played += r.frequency
        total += r.frequency * b * r.flat_edge
        second += r.frequency * b * b * (r.flat_sd * r.flat_sd + r.flat_edge * r.flat_edge)
    if played <= 0:
        return 0.0, 0.0
    ev = total / played
    return ev, max(second / played - ev * ev, 0.0)


def ramp_score(rows: Sequence[CountRow], bets: Sequence[float | None]) -> float:
    """SCORE (10^6 (ev / sd)^2, 0 without an edge; stats.n0_di_score) of a ramp on a table."""
    ev, var = ramp_ev_variance(rows, bets)
    return n0_di_score(ev, math.sqrt(var))[2] or 0.0


def _wong_from(rows: Sequence[CountRow], bets: Sequence[float]) -> int | None:
    """The index of the first row played: the start of the suffix of rows whose expected win
    per round dealt, sum f b e, is largest; None when that is the whole table (the lowest
    row holds every count below it too, so there is no count to leave at)."""
    best, start, suffix = -math.inf, len(rows) - 1, 0.0
    for i in range(len(rows) - 1, -1, -1):
        suffix += rows[i].frequency * bets[i] * rows[i].flat_edge
        if suffix > best:
            best, start = suffix, i
    return start or None


def _clipped(
    rows: Sequence[CountRow], scale: float, bottom: float, top: float, wong: int | None
) -> list[float | None]:
    """scale * e / v clipped to [bottom, top] where the edge is positive, else bottom;
    None below the row `wong`."""
    out: list[float | None] = []
    for i, r in enumerate(rows):
        if wong is not None and i < wong:
            out.append(None)
        elif r.flat_edge > 0:
            out.append(min(max(scale * r.flat_edge / (r.flat_sd * r.flat_sd), bottom), top))
        else:
            out.append(bottom)
    return out


def _rounded(
    bets: Sequence[float | None], unit: float, bottom: float, top: float
) -> list[float | None]:
    # bottom and top are multiples of the unit already, so the clip keeps every bet one.
    return [None if b is None else min(max(round(b / unit) * unit, bottom), top) for b in bets]


def _golden_max(f: Any, lo: float, hi: float, steps: int = 200) -> float:
    """The argmax of f on [lo, hi], f unimodal there (golden-section search)."""
    g = (math.sqrt(5) - 1) / 2
    a, b = lo, hi
    c, d = b - g * (b - a), a + g * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(steps):
        if fc >= fd:
            b, d, fd = d, c, fc
            c = b - g * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + g * (b - a)
            fd = f(d)
        if b - a <= 1e-12 * max(1.0, abs(b)):
            break
    return (a + b) / 2


def _best_shape(
    rows: Sequence[CountRow], spread: float, wong: int | None
) -> tuple[float, list[float | None]]:
    """lambda and the shape clip(lambda * e / v, 1, spread) (units of the bottom bet) of
    the largest DI: a grid on log lambda finds the peak's neighbourhood, golden-section
    search refines it."""
    ratios = [r.flat_edge / (r.flat_sd * r.flat_sd) for r in rows if r.flat_edge > 0]
    # Below lo every positive count bets 1 (flat); above hi every one bets the spread.
    lo, hi = 1.0 / max(ratios), spread / min(ratios)
    if hi <= lo * (1 + 1e-12):
        return hi, _clipped(rows, hi, 1.0, spread, wong)

    def di(log_lam: float) -> float:
        ev, var = ramp_ev_variance(rows, _clipped(rows, math.exp(log_lam), 1.0, spread, wong))
        return ev / math.sqrt(var) if var > 0 else -math.inf

    a, b = math.log(lo), math.log(hi)
    grid = [a + (b - a) * i / 400 for i in range(401)]
    values = [di(x) for x in grid]
    i = max(range(len(grid)), key=values.__getitem__)
    best = _golden_max(di, grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)])
    lam = math.exp(best)
    return lam, _clipped(rows, lam, 1.0, spread, wong)


def _risk(rows: Sequence[CountRow], bets: Sequence[float | None], bankroll: float) -> float:
    ev, var = ramp_ev_variance(rows, bets)
    if var <= 0:
        return 0.0 if ev > 0 else 1.0
    return formula_risk(ev, var, bankroll) or 0.0


def _bisect(f: Any, lo: float, hi: float, target: float) -> float:
    """x in [lo, hi] with f(x) = target, f increasing, f(lo) <= target <= f(hi)."""
    for _ in range(200):
        mid = (lo + hi) / 2
        if f(mid) < target:
            lo = mid
        else:
            hi = mid
        if hi - lo <= 1e-13 * hi:
            break
    return (lo + hi) / 2


# ---------------------------------------------------------------------------------------
# The answer
# ---------------------------------------------------------------------------------------
def optimal_bets(
    rows: Sequence[CountRow],
    *,
    bankroll: float,
    min_bet: float,
    max_bet: float,
    max_spread: float,
    unit: float,
    kelly_fraction: float | None = None,
    risk_of_ruin: float | None = None,
    rounds_per_hour: float = 100,
    wong_out: bool = False,
) -> dict[str, Any]:
    """The growth-maximising ramp for these constraints (module docstring), JSON-ready.

    Raises ConfigError naming every bad input (`bankroll`, `min_bet`, `max_bet`,
    `max_spread`, `unit`, `kelly_fraction`, `risk_of_ruin`, `rounds_per_hour`,
    `table[i].<field>`).
    """
    _check(
        rows,
        bankroll,
        min_bet,
        max_bet,
        max_spread,
        unit,
        kelly_fraction,
        risk_of_ruin,
        rounds_per_hour,
    )
    rows = sorted(rows, key=lambda r: r.true_count)
    total = sum(r.frequency for r in rows)
    rows = [CountRow(r.true_count, r.frequency / total, r.flat_edge, r.flat_sd) for r in rows]
    if not any(r.flat_edge > 0 for r in rows):
        raise ConfigError([("table", "no count has a positive edge: there is nothing to bet on")])
    bankroll, min_bet, max_bet, unit = map(float, (bankroll, min_bet, max_bet, unit))
    spread = float(max_spread)
    notes: list[str] = []

    def top_of(bottom: float) -> float:
        # The largest bet: the table maximum or the spread over the bottom bet, in whole units.
        return math.floor(min(max_bet, spread * bottom) / unit + 1e-9) * unit

    if kelly_fraction is not None:
        kappa = float(kelly_fraction)
        scale = bankroll * kappa
        bottom = min_bet
        raw = _clipped(rows, scale, bottom, top_of(bottom), None)
        wong = _wong_from(rows, raw) if wong_out else None  # type: ignore[arg-type]
        raw = _clipped(rows, scale, bottom, top_of(bottom), wong)
    else:
        target = float(risk_of_ruin)  # type: ignore[arg-type]
        # A k-Kelly bettor's risk of ruin is exp(-2 / k): the risk-averse Kelly number a
        # target risk stands for (for the certainty equivalent).
        kappa = -2.0 / math.log(target)
        wong = None
        if wong_out:
            _, shape = _best_shape(rows, spread, None)
            wong = _wong_from(rows, shape)  # type: ignore[arg-type]
        lam, shape = _best_shape(rows, spread, wong)

        def at(bottom: float) -> list[float | None]:
            return [None if s is None else min(s * bottom, max_bet) for s in shape]

        def risk_at(bottom: float) -> float:
            return _risk(rows, at(bottom), bankroll)

        if risk_at(min_bet) > target:
            raise ConfigError(
                [
                    (
                        "risk_of_ruin",
                        f"{target:g} is out of reach: the best ramp at a bottom bet of min_bet "
                        f"({min_bet:g}) already has a risk of {risk_at(min_bet):.6g} with this "
                        "bankroll; raise the bankroll or accept more risk",
                    )
                ]
            )
        if risk_at(max_bet) >= target:
            bottom = _bisect(risk_at, min_bet, max_bet, target)
        else:
            bottom = max_bet
            notes.append(
                "the table maximum binds: every bet at max_bet keeps the risk below the target"
            )
        raw = at(bottom)
        scale = lam * bottom
    risk_before = _risk(rows, raw, bankroll)
    # The bottom bet rounds to the nearest unit at or above min_bet; the rest round to the
    # unit within [bottom, top].
    bottom_r = max(round(min(b for b in raw if b is not None) / unit) * unit, min_bet)
    top = max(top_of(bottom_r), bottom_r)
    bets = _rounded(raw, unit, bottom_r, top)
    ev, var = ramp_ev_variance(rows, bets)
    sd = math.sqrt(var)
    n0, di, score = n0_di_score(ev, sd)
    rph = float(rounds_per_hour)
    ce_round = ev - var / (2.0 * kappa * bankroll)
    ramp = [
        {
            "true_count": r.true_count,
            "bet": b,
            "bet_before_rounding": finite(x) if x is not None else None,
            "kelly_bet": max(scale * r.flat_edge / (r.flat_sd * r.flat_sd), 0.0),
            "frequency": r.frequency,
            "flat_edge": r.flat_edge,
        }
        for r, b, x in zip(rows, bets, raw, strict=True)
    ]
    wong_count = rows[wong].true_count if wong is not None else None
    return {
        "betting_strategy": betting_strategy(rows, bets, wong_count),
        "ramp": ramp,
        "ev_per_round": ev,
        "sd_per_round": sd,
        "win_per_hour": ev * rph,
        "sd_per_hour": sd * math.sqrt(rph),
        "di": finite(di),
        "score": finite(score),
        "n0": finite(n0),
        "risk_of_ruin": finite(_risk(rows, bets, bankroll)),
        "risk_of_ruin_before_rounding": finite(risk_before),
        # Per round, as POST /api/risk/'s: one key, one unit across the API.
        "certainty_equivalent": ce_round,
        "certainty_equivalent_per_hour": ce_round * rph,
        "kelly_fraction": kappa,
        "wong_out": wong_count,
        "played_frequency": sum(
            r.frequency for r, b in zip(rows, bets, strict=True) if b is not None
        ),
        "bankroll": bankroll,
        "rounds_per_hour": rph,
        "notes": notes,
    }


def betting_strategy(
    rows: Sequence[CountRow], bets: Sequence[float | None], wong_out: int | None
) -> dict[str, Any]:
    """The ramp as a config's betting_strategy: min_bet the bottom bet, a tier at each count
    where the bet changes (a row's true count k holds the counts in [k, k + 1), which is
    where a threshold k applies), read by the true count, and wong_out where the player
    leaves."""
    played = [(r.true_count, b) for r, b in zip(rows, bets, strict=True) if b is not None]
    bottom = min(b for _, b in played)
    ramp: dict[str, float] = {"-Infinity": played[0][1] / bottom}
    last = played[0][1]
    for count, bet in played[1:]:
        if bet != last:
            ramp[str(count)] = bet / bottom
            last = bet
    out: dict[str, Any] = {
        "name": "optimal_bets",
        "min_bet": bottom,
        "num_hands": 1,
        "bet_ramp": ramp,
        # The table's rows are true counts whatever the system; an unbalanced one (KO)
        # would otherwise read the ramp by the running count.
        "ramp_count": "true",
    }
    if wong_out is not None:
        out["wong_out"] = wong_out
    return out
