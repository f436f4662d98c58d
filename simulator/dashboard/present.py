"""What the job pages show, worked out from a job and its results document (field names
as in docs/RESULTS.md), so the templates only lay it out."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

import jost_engine
from simulator.models import JobStatus, SimulationJob

# What a figure the results leave null (docs/RESULTS.md says when) is shown as.
BLANK = "\N{EN DASH}"


def duration(job: SimulationJob, now: datetime | None = None) -> timedelta | None:
    """How long the job ran: start to finish, or start to now while it runs."""
    if job.started_at is None:
        return None
    if job.finished_at is not None:
        return job.finished_at - job.started_at
    if job.status == JobStatus.RUNNING:
        return (now or timezone.now()) - job.started_at
    return None


def format_duration(span: timedelta | None) -> str:
    if span is None:
        return BLANK
    seconds = max(span.total_seconds(), 0.0)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min {seconds:02d} s"


def money(value: Any) -> str:
    return BLANK if value is None else f"{value:,.2f}"


def _percent(value: Any, digits: int = 3) -> str:
    return BLANK if value is None else f"{value * 100:+.{digits}f}%"


def number(value: Any, digits: int = 1) -> str:
    return BLANK if value is None else f"{value:,.{digits}f}"


def edge_interval(player: dict[str, Any]) -> tuple[float, float] | None:
    """The 95% interval of player_edge: the EV-per-round interval over the average wagered
    per round (total_wagered / rounds_played). It treats the wager per round as known,
    which a flat bet makes exact and a ramp makes approximate, as the EV interval is."""
    ci = player.get("ev_per_round_95ci")
    rounds, wagered = player.get("rounds_played") or 0, player.get("total_wagered") or 0
    if not ci or None in ci or not rounds or not wagered:
        return None
    per_round = wagered / rounds
    return ci[0] / per_round, ci[1] / per_round


def player_summary(player: dict[str, Any], counting: bool) -> list[tuple[str, str]]:
    """A player's figures people read at a glance, as (label, text) pairs."""
    interval = edge_interval(player)
    edge = _percent(player.get("player_edge"))
    if interval is not None:
        edge += f"  [{_percent(interval[0])}, {_percent(interval[1])}]"
    rows = [
        ("Edge (95% interval)", edge),
        ("Net", money(player.get("net_gain_loss"))),
        ("Wagered", money(player.get("total_wagered"))),
        ("Rounds", f"{player.get('rounds_played') or 0:,}"),
        ("Average bet", money(player.get("average_bet"))),
        ("EV per round", money(player.get("ev_per_round"))),
        ("SD per round", money(player.get("sd_per_round"))),
        (
            "Risk of ruin",
            BLANK if player.get("risk_of_ruin") is None else f"{player['risk_of_ruin']:.3g}",
        ),
        ("N0 (rounds)", number(player.get("n0"), 0)),
        (
            "Bankroll",
            f"{money(player.get('initial_bankroll'))} → {money(player.get('final_bankroll'))}",
        ),
    ]
    if counting:
        rows.insert(9, ("SCORE", number(player.get("score"), 2)))
    if player.get("broke"):
        rows.append(("Broke", "yes: stopped for want of a bankroll covering the bet"))
    return rows


FREQUENCY_ORDER = (
    "win",
    "loss",
    "push",
    "blackjack",
    "bust",
    "double",
    "split",
    "surrender",
    "insurance",
    "insurance_won",
    "dealer_blackjack",
    "dealer_bust",
)


def frequency_rows(players: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """One row per outcome, one column per player, as percentages: the common game's in
    FREQUENCY_ORDER, then any other a result has (Spanish 21's bonuses, rescues and
    redoubles; docs/RESULTS.md) in the result's order."""
    names = list(FREQUENCY_ORDER)
    for p in players:
        names += [name for name in p.get("frequencies") or {} if name not in names]
    return [
        (
            name.replace("_", " "),
            [
                BLANK
                if (p.get("frequencies") or {}).get(name) is None
                else f"{p['frequencies'][name] * 100:.2f}%"
                for p in players
            ],
        )
        for name in names
    ]


def true_count_rows(player: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {
            "true_count": f"{row['true_count']:+d}" if row["true_count"] else "0",
            "rounds": f"{row['rounds']:,}",
            "net": money(row.get("net")),
            "wagered": money(row.get("wagered")),
            "ev_per_round": money(row.get("ev_per_round")),
            "sd_per_round": money(row.get("sd_per_round")),
            "edge": _percent(row.get("edge"), 2),
        }
        for row in player.get("true_count_table") or []
    ]


def is_counting(results: dict[str, Any]) -> bool:
    """Some seat bets by the count: the engine writes a true-count table exactly then."""
    return any("true_count_table" in p for p in results.get("players") or [])


def progress_text(progress: dict[str, Any], unit: str = "rounds") -> dict[str, str]:
    """progress_of's figures as the status panel shows them (its script writes the same).
    `unit` is what the job counts: rounds, or shoes for an index job."""
    rate, eta = progress.get("rate"), progress.get("eta_seconds")
    return {
        "rounds": f"{progress['rounds_done']:,} of {progress['rounds_total']:,} {unit}",
        "rate": "" if not rate else f"{rate:,.0f} {unit}/s",
        "eta": "" if eta is None else f"{format_duration(timedelta(seconds=eta))} left",
    }


# The risk panel's fixed questions: the trip a player plans in hours, and the risks a
# bankroll is usually sized for (5%, and e^-2 = 13.5%, the full-Kelly bankroll).
LOSS_HOURS = 100
PANEL_RISKS = (0.05, 0.135)


def chance(p: float) -> str:
    """A probability as a percentage a player reads: three figures, with the far tails
    said as bounds rather than as 0% or 100%, which the model never means."""
    if p < 1e-6:
        return "< 0.0001%"
    if p > 1 - 1e-6:
        return "> 99.9999%"
    return f"{p * 100:.3g}%"


def risk_panel(player: dict[str, Any]) -> dict[str, Any]:
    """A seat's risk figures from its EV and SD per round, bankroll and rounds per hour
    (jost_engine.risk; docs/RESULTS.md, "Risk"): ruin within a trip as long as this run,
    the chance of being behind after LOSS_HOURS hours, the bankrolls for PANEL_RISKS.

    Returns the raw figures beside their text, so what is shown can be checked against
    the engine; `problem` says why a seat has no panel (no SD, no bankroll)."""
    name = player.get("name")
    ev, sd = player.get("ev_per_round"), player.get("sd_per_round")
    bankroll = player.get("initial_bankroll")
    rounds = player.get("rounds_played") or 0
    per_hour = player.get("rounds_per_hour") or 100.0
    if ev is None or not sd or not bankroll or rounds < 1:
        return {
            "name": name,
            "rows": [],
            "problem": "This seat played too few rounds for an SD, so there is no risk to show.",
        }
    try:
        trip = jost_engine.trip_ruin(ev, sd, bankroll, rounds)
        loss_rounds = LOSS_HOURS * per_hour
        loss = jost_engine.chance_of_loss(ev, sd, loss_rounds, bankroll=bankroll)
        needed = [jost_engine.bankroll_for_risk(ev, sd, r) for r in PANEL_RISKS]
    except jost_engine.ConfigError as exc:
        return {"name": name, "rows": [], "problem": "; ".join(r for _, r in exc.problems)}
    no_bankroll = "none: without an edge every bankroll is lost in the long run"
    rows = [
        {
            "key": "trip_ruin",
            "label": (
                f"Chance of going broke within a trip as long as this run "
                f"({rounds:,} rounds, {number(rounds / per_hour)} h)"
            ),
            "value": trip,
            "text": chance(trip),
        },
        {
            "key": "chance_of_loss",
            "label": (
                f"Chance of being behind after {LOSS_HOURS} hours ({loss_rounds:,.0f} rounds)"
            ),
            "value": loss,
            "text": chance(loss),
        },
    ]
    for risk, amount in zip(PANEL_RISKS, needed, strict=True):
        rows.append(
            {
                "key": f"bankroll_for_{risk:g}",
                "label": (
                    f"Bankroll for a {risk * 100:g}% chance of ever going broke"
                    + (" (full Kelly)" if risk == 0.135 else "")
                ),
                "value": amount,
                "text": no_bankroll if amount is None else money(amount),
            }
        )
    return {
        "name": name,
        "rows": rows,
        "problem": None,
        "inputs": (
            f"From a bankroll of {money(bankroll)}, an EV of {money(ev)} and an SD of "
            f"{money(sd)} per round, at {number(per_hour, 0)} rounds an hour."
        ),
    }
