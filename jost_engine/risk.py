"""Risk and bankroll: what a player's EV and SD per round mean for a bankroll and a trip.

Every figure is the diffusion (Brownian motion) approximation of the bankroll: after t
rounds the result is X_t = mu * t + sigma * W_t, mu the EV and sigma the SD per round in
money, W a standard Brownian motion, and the player is ruined when X first reaches
-bankroll. Write B for the bankroll, N for the rounds of a trip, s = sigma * sqrt(N),
Phi for the standard normal CDF and a = 2 * mu / sigma^2 (docs/RESULTS.md, "Risk", gives
each formula with its source):

  risk_of_ruin          exp(-a B) when mu > 0, else 1       (play without end)
  trip_ruin             Phi((-B - mu N) / s) + exp(-a B) Phi((-B + mu N) / s)
  goal_before_ruin      (1 - exp(-a B)) / (1 - exp(-a G)), or B / G when mu = 0
  chance_of_loss        Phi(-mu N / s) + exp(-a B) Phi((mu N - 2 B) / s)
  bankroll_for_risk     -ln(r) / a = -sigma^2 ln(r) / (2 mu)  (null when mu <= 0)
  n0                    sigma^2 / mu^2 rounds (null when mu = 0)
  hours_to_double       B / (mu R) at R rounds an hour (null when mu <= 0)
  certainty_equivalent  mu - sigma^2 / (2 B) per round

The continuous bankroll is a model of whole bets: a real player is ruined when the
bankroll no longer covers a bet, and a round can carry it past the barrier, so the
formulas slightly understate ruin; the gap shrinks with bankrolls of many bets
(tests/engine/test_risk.py measures it against the engine's sessions).

Numerics: exp(-a B) overflows when mu < 0 and B is many variances, exactly where the
normal tail it multiplies underflows; their product is taken as exp(-a B + log Phi(x))
with a log Phi that stays finite far into the tail. Tails use erfc, never 1 - erf.
"""

from __future__ import annotations

import math
from typing import Any

from jost_engine.config.fields import MAX_MONEY, MAX_ROUNDS, MIN_MONEY
from jost_engine.config.players import MAX_ROUNDS_PER_HOUR, MIN_ROUNDS_PER_HOUR
from jost_engine.config.types import ConfigError

# The risks of ruin bankroll_for_risk answers for in a report: 1%, 5%, and e^-2 (13.5%),
# the risk of a bankroll of sigma^2 / mu, which is the bankroll full-Kelly betting assumes.
RISKS = (0.01, 0.05, 0.135)

_SQRT2 = math.sqrt(2.0)
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


# ---------------------------------------------------------------------------------------
# The normal distribution, far into its tails
# ---------------------------------------------------------------------------------------
def normal_cdf(x: float) -> float:
    """Phi(x) through erfc, so a lower tail keeps its relative precision (no 1 - erf)."""
    return 0.5 * math.erfc(-x / _SQRT2)


def log_normal_cdf(x: float) -> float:
    """log Phi(x), finite for every finite x (Phi itself underflows below x = -38)."""
    if x > 0:
        return math.log1p(-0.5 * math.erfc(x / _SQRT2))
    if x > -30:
        return math.log(0.5 * math.erfc(-x / _SQRT2))
    # Mills' ratio: Phi(x) = phi(x) / |x| * (1 - 1/x^2 + 3/x^4 - 15/x^6 + 105/x^8 - ...),
    # the next term below 2e-12 at x = -30.
    t = 1.0 / (x * x)
    series = 1.0 - t * (1.0 - t * (3.0 - t * (15.0 - 105.0 * t)))
    return -0.5 * x * x - math.log(-x) - _HALF_LOG_2PI + math.log(series)


def _exp_times_cdf(exponent: float, x: float) -> float:
    """exp(exponent) * Phi(x) without overflow where exp alone would overflow."""
    return math.exp(min(exponent + log_normal_cdf(x), 0.0))


# ---------------------------------------------------------------------------------------
# Checks: a bad input is a ConfigError naming the field
# ---------------------------------------------------------------------------------------
def _number(field: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError([(field, "not a number")])
    if not math.isfinite(value):
        raise ConfigError([(field, "must be finite")])
    return float(value)


def _positive(field: str, value: Any) -> float:
    x = _number(field, value)
    if x <= 0:
        raise ConfigError([(field, f"must be more than 0, got {value}")])
    return x


def _rounds(field: str, value: Any) -> float:
    x = _number(field, value)
    if x < 1:
        raise ConfigError([(field, f"must be at least 1, got {value}")])
    return x


def _within(field: str, value: Any, low: float, high: float) -> float:
    """risk_report's inputs within the config's own bounds (docs/CONFIG.md, Bounds), so no
    figure overflows: a pace of 5e-324 rounds an hour made a trip of infinite rounds."""
    x = _number(field, value)
    if not low <= x <= high:
        raise ConfigError([(field, f"must be {low:g}..{high:g}, got {value}")])
    return x


def _finite(x: float) -> float | None:
    """A figure too large for a float (an EV of 1e-300) is null, as JSON has no infinity."""
    return x if math.isfinite(x) else None


def _inputs(ev: Any, sd: Any) -> tuple[float, float]:
    return _number("ev_per_round", ev), _positive("sd_per_round", sd)


def _exponent(mu: float, sd: float, bankroll: float) -> float:
    """-a B = -2 mu B / sigma^2, the log of the risk of ruin without end when mu > 0.

    Divided by sigma twice, not by sigma^2, which underflows to 0 for a tiny SD. -infinity
    is an answer (no risk at all); +infinity (a negative EV, a bankroll of more than 1e308
    variances) would meet a normal tail of log -infinity, and nothing finite follows."""
    if mu == 0:
        return 0.0
    e = -2.0 * mu * (bankroll / sd) / sd
    if e == math.inf:
        raise ConfigError([("sd_per_round", "too small beside the EV and the bankroll")])
    return e


# ---------------------------------------------------------------------------------------
# The formulas
# ---------------------------------------------------------------------------------------
def risk_of_ruin(ev: float, sd: float, bankroll: float) -> float:
    """The chance of ever losing `bankroll` in play without end: exp(-2 ev B / sd^2) when
    ev > 0, else 1 (a game without an edge is ruined with certainty)."""
    mu, sd = _inputs(ev, sd)
    b = _positive("bankroll", bankroll)
    return 1.0 if mu <= 0 else math.exp(_exponent(mu, sd, b))


def trip_ruin(ev: float, sd: float, bankroll: float, rounds: float) -> float:
    """The chance of losing `bankroll` within `rounds` rounds: the first-passage CDF of
    Brownian motion with drift to the level -B (the inverse Gaussian distribution),
    Phi((-B - mu N) / s) + exp(-2 mu B / sigma^2) Phi((-B + mu N) / s), s = sigma sqrt(N)."""
    mu, sd = _inputs(ev, sd)
    b = _positive("bankroll", bankroll)
    n = _rounds("rounds", rounds)
    s = sd * math.sqrt(n)
    p = normal_cdf((-b - mu * n) / s) + _exp_times_cdf(_exponent(mu, sd, b), (-b + mu * n) / s)
    return min(p, 1.0)


def goal_before_ruin(ev: float, sd: float, bankroll: float, goal: float) -> float:
    """The chance that the bankroll reaches `goal` (a bankroll, more than `bankroll`) before
    it reaches 0, however long it takes: Brownian motion with drift between two absorbing
    barriers, (1 - exp(-a B)) / (1 - exp(-a G)) with a = 2 mu / sigma^2, B / G when mu = 0."""
    mu, sd = _inputs(ev, sd)
    b = _positive("bankroll", bankroll)
    g = _number("goal", goal)
    if g <= b:
        raise ConfigError([("goal", f"must be more than the bankroll ({bankroll}), got {goal}")])
    a = 2.0 * mu / sd / sd
    if a == 0:
        return b / g
    if a > 0:
        return math.expm1(-a * b) / math.expm1(-a * g)
    # a < 0: the same ratio with exp(|a| B) / exp(|a| G) taken out of it, so neither
    # exponential overflows: exp(-|a| (G - B)) * (1 - exp(-|a| B)) / (1 - exp(-|a| G)).
    c = -a
    return math.exp(-c * (g - b)) * math.expm1(-c * b) / math.expm1(-c * g)


def chance_of_loss(ev: float, sd: float, rounds: float, *, bankroll: float | None = None) -> float:
    """The chance of being behind after `rounds` rounds.

    Without a bankroll, the normal approximation of the result: Phi(-mu N / s). With one,
    a ruined player stops (and is behind) where the normal result would have let some of
    those trips come back: by reflection at -B, the trips that touch -B and end above 0 add
    exp(-2 mu B / sigma^2) Phi((mu N - 2 B) / s). The second term vanishes for a bankroll of
    a few s and tends to the risk of ruin as N grows, as being behind then means being broke.
    """
    mu, sd = _inputs(ev, sd)
    n = _rounds("rounds", rounds)
    s = sd * math.sqrt(n)
    p = normal_cdf(-mu * n / s)
    if bankroll is not None:
        b = _positive("bankroll", bankroll)
        p += _exp_times_cdf(_exponent(mu, sd, b), (mu * n - 2.0 * b) / s)
    return min(p, 1.0)


def bankroll_for_risk(ev: float, sd: float, risk: float) -> float | None:
    """The bankroll whose risk_of_ruin is `risk`: -sigma^2 ln(risk) / (2 mu); None when
    ev <= 0, where every bankroll is ruined."""
    mu, sd = _inputs(ev, sd)
    r = _number("risk_of_ruin", risk)
    if not 0 < r < 1:
        raise ConfigError([("risk_of_ruin", f"must be between 0 and 1, got {risk}")])
    return None if mu <= 0 else _finite(-sd * sd * math.log(r) / (2.0 * mu))


def n0(ev: float, sd: float) -> float | None:
    """sigma^2 / mu^2: the rounds after which the expected win equals one standard
    deviation of the result; None when ev = 0."""
    mu, sd = _inputs(ev, sd)
    return None if mu == 0 else _finite((sd / mu) * (sd / mu))


def hours_to_double(ev: float, bankroll: float, rounds_per_hour: float = 100.0) -> float | None:
    """B / (mu R): the hours in which the expected win equals the bankroll; None when
    ev <= 0. At the bankroll for a risk r this is -ln(r) / 2 * N0 / R, so a bankroll at
    13.5% (e^-2) doubles in N0 rounds (Schlesinger's observation on the Kelly bankroll)."""
    mu = _number("ev_per_round", ev)
    b = _positive("bankroll", bankroll)
    r = _positive("rounds_per_hour", rounds_per_hour)
    return None if mu <= 0 else _finite(b / mu / r)


def certainty_equivalent(ev: float, sd: float, bankroll: float) -> float:
    """mu - sigma^2 / (2 B) per round: the sure win a player with logarithmic utility
    (a Kelly bettor) values the game at with this bankroll; half the EV at the full-Kelly
    bankroll sigma^2 / mu, negative for a bankroll below half of it. Per hour: times R."""
    mu, sd = _inputs(ev, sd)
    b = _positive("bankroll", bankroll)
    ce = mu - (sd / b) * sd / 2.0
    if not math.isfinite(ce):
        raise ConfigError([("sd_per_round", "too large beside the bankroll")])
    return ce


def risk_report(
    *,
    ev_per_round: float,
    sd_per_round: float,
    bankroll: float,
    rounds: float | None = None,
    hours: float | None = None,
    goal: float | None = None,
    rounds_per_hour: float = 100.0,
) -> dict[str, Any]:
    """Every figure of the module for one game and bankroll, JSON-ready (docs/RESULTS.md,
    "Risk"). A trip is `rounds` rounds or `hours` hours (not both); trip_ruin and
    chance_of_loss are null without one, goal_before_ruin is null without a goal."""
    mu, sd = _inputs(ev_per_round, sd_per_round)
    _within("ev_per_round", mu, -MAX_MONEY, MAX_MONEY)
    _within("sd_per_round", sd, 0, MAX_MONEY)
    b = _within("bankroll", bankroll, MIN_MONEY, MAX_MONEY)
    per_hour = _within("rounds_per_hour", rounds_per_hour, MIN_ROUNDS_PER_HOUR, MAX_ROUNDS_PER_HOUR)
    if goal is not None:
        _within("goal", goal, MIN_MONEY, 2 * MAX_MONEY)
    if rounds is not None and hours is not None:
        raise ConfigError([("hours", "give rounds or hours for a trip, not both")])
    trip: float | None = None
    if rounds is not None:
        trip = _rounds("rounds", rounds)
        _within("rounds", trip, 1, MAX_ROUNDS)
    elif hours is not None:
        trip = _within("hours", hours, 0, MAX_ROUNDS / per_hour) * per_hour
        if trip < 1:
            raise ConfigError([("hours", f"must make at least 1 round, got {trip} rounds")])
    if goal is not None:
        goal_p: float | None = goal_before_ruin(mu, sd, b, goal)
    else:
        goal_p = None
    rounds_n0 = n0(mu, sd)
    return {
        "risk_of_ruin": risk_of_ruin(mu, sd, b),
        "trip_ruin": None if trip is None else trip_ruin(mu, sd, b, trip),
        "goal_before_ruin": goal_p,
        "chance_of_loss": None if trip is None else chance_of_loss(mu, sd, trip, bankroll=b),
        "bankroll_for_risk": [
            {"risk_of_ruin": r, "bankroll": bankroll_for_risk(mu, sd, r)} for r in RISKS
        ],
        "n0": rounds_n0,
        "n0_hours": None if rounds_n0 is None else rounds_n0 / per_hour,
        "hours_to_double": hours_to_double(mu, b, per_hour),
        "certainty_equivalent": certainty_equivalent(mu, sd, b),
    }
