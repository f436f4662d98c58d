"""What the job page shows for an index generator job (SimulationJob.kind INDICES), worked
out from its request and its result (jost_engine.indices.index_results), so the template
only lays it out: the request in a line or two, a row and a curve per play, and the
`deviations` list as a config takes it.

The result's optional fields (gain_per_100, risk_averse, risk_averse_deviations,
gain_ramp) are read with .get(): a result made before the engine wrote them has none, and
the page leaves their columns out rather than showing a column of dashes.
"""

from __future__ import annotations

import json
from typing import Any

from jost_engine import ConfigError
from jost_engine.indices import index_request_to_dict, normalize_index_request
from simulator.dashboard import charts
from simulator.dashboard.charts import signed
from simulator.dashboard.present import BLANK
from simulator.models import JobKind, JobStatus, SimulationJob

WHEN = {"at_or_above": "at or above", "below": "below"}
# The deviations lists a result may carry, by the name the download takes (?list=...).
DEVIATION_LISTS = {"": "deviations", "risk_averse": "risk_averse_deviations"}


def is_index_job(job: SimulationJob) -> bool:
    return job.kind == JobKind.INDICES


def _number(value: Any) -> float | None:
    # bool is an int to Python, never a count to the page.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _interval_text(interval: Any) -> str:
    if not isinstance(interval, list) or len(interval) != 2:
        return BLANK
    low, high = _number(interval[0]), _number(interval[1])
    if low is None or high is None:
        return BLANK
    return f"[{signed(low, 2)}, {signed(high, 2)}]"


def _count_text(value: Any, digits: int = 1) -> str:
    number = _number(value)
    return BLANK if number is None else signed(number, digits)


def _index_text(found: dict[str, Any]) -> dict[str, str]:
    """An index (the play's, or its risk-averse one) as the table shows it."""
    return {
        "index": _count_text(found.get("index")),
        "rounded": _count_text(found.get("index_rounded")),
        "interval": _interval_text(found.get("interval")),
        "when": WHEN.get(str(found.get("when")), BLANK),
    }


def _note(play: dict[str, Any]) -> str:
    """Why a play has no index: the engine's note, and which action is always better
    when it never changes."""
    note = str(play.get("note") or "")
    better = play.get("better")
    if play.get("never_changes") and better:
        note = f"{note}: {better} is always better" if note else f"{better} is always better"
    return note


def _risk_averse_text(play: dict[str, Any]) -> str:
    risk_averse = play.get("risk_averse")
    if not isinstance(risk_averse, dict):
        return BLANK
    if _number(risk_averse.get("index")) is None:
        return str(risk_averse.get("note") or BLANK)
    text = _index_text(risk_averse)
    return f"{text['index']} (rounded {text['rounded']}) {text['interval']}, {text['when']}"


def play_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per play, in the request's order, with its chart (None without buckets)."""
    rows = []
    for i, play in enumerate(p for p in result.get("indices") or [] if isinstance(p, dict)):
        a, b = charts.actions_of(play, BLANK, BLANK)
        has_index = _number(play.get("index")) is not None
        gain = _number(play.get("gain_per_100"))
        rows.append(
            {
                "anchor": f"play-{i + 1}",
                "title": charts.play_title(play),
                "hand": play.get("hand", BLANK),
                "vs": play.get("vs", BLANK),
                "a": a,
                "b": b,
                "count": "running count" if play.get("count") == "running" else "true count",
                "states": f"{int(play.get('states') or 0):,}",
                "has_index": has_index,
                **_index_text(play),
                "gain": BLANK if gain is None else f"{gain:+.2f}",
                "risk_averse": _risk_averse_text(play),
                "note": "" if has_index else _note(play) or "no index in this result",
                "chart": charts.index_curve_chart(play),
            }
        )
    return rows


def optional_columns(result: dict[str, Any]) -> dict[str, bool]:
    """Which of the result's optional figures any play carries."""
    plays = [p for p in result.get("indices") or [] if isinstance(p, dict)]
    return {
        # A column for what some play has: no gain without an index, no risk-averse
        # index without a bankroll in the request.
        "gain": any(p.get("gain_per_100") is not None for p in plays),
        "risk_averse": any(p.get("risk_averse") is not None for p in plays),
    }


def deviations(job: SimulationJob, which: str = "") -> list[Any] | None:
    """A finished index job's deviations list (`which` "risk_averse": its risk-averse
    one), exactly as the result holds it; None when the job has none to give."""
    name = DEVIATION_LISTS.get(which)
    if name is None or not is_index_job(job) or job.status != JobStatus.COMPLETE:
        return None
    found = (job.result_data or {}).get(name) if isinstance(job.result_data, dict) else None
    return found if isinstance(found, list) else None


def pretty(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False)


# A deviation's keys in the order a person reads one (the database's JSON keeps no order).
DEVIATION_KEYS = ("hand", "vs", "action", "when", "index")


def deviations_text(deviations: list[Any]) -> str:
    """A deviations list as JSON with one deviation a line, its keys in DEVIATION_KEYS
    order: short enough to read whole, and what json.loads gives back is the list."""
    if not deviations:
        return "[]"
    lines = []
    for deviation in deviations:
        if isinstance(deviation, dict):
            known = [k for k in DEVIATION_KEYS if k in deviation]
            deviation = {k: deviation[k] for k in [*known, *sorted(set(deviation) - set(known))]}
        lines.append(json.dumps(deviation, ensure_ascii=False))
    return "[\n  " + ",\n  ".join(lines) + "\n]"


def normalized_request(job: SimulationJob) -> tuple[dict[str, Any] | None, str]:
    """The request as the engine runs it, and as text: the one resolved at submit when
    the job has it (a profile the owner saved is known only then), else the request as
    sent, normalised now. Text naming the problems when the engine refuses it."""
    raw = job.resolved_config if isinstance(job.resolved_config, dict) else job.request_data
    try:
        normalized = index_request_to_dict(normalize_index_request(raw))
    except ConfigError as exc:
        return None, "The engine refuses this request:\n" + "\n".join(
            f"{path or '(request)'}: {reason}" for path, reason in exc.problems
        )
    return normalized, pretty(normalized)


def _casino_text(casino: dict[str, Any]) -> str:
    decks = casino.get("deck_count")
    parts = [f"{decks} deck{'s' if decks != 1 else ''}"] if decks else []
    parts.append("H17" if casino.get("hit_on_soft_17") else "S17")
    if casino.get("allow_double_after_split"):
        parts.append("DAS")
    if casino.get("allow_late_surrender"):
        parts.append("LS")
    if casino.get("allow_early_surrender"):
        parts.append("ES")
    penetration = _number(casino.get("reshuffle_penetration"))
    if penetration is not None:
        parts.append(f"{penetration * 100:g}% penetration")
    return " ".join(parts)


def request_facts(job: SimulationJob, normalized: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The request in a few (label, text) pairs; names are the request's own text, which
    the template escapes."""
    shoes = f"{job.rounds_done:,} of {job.rounds_total:,}"
    if normalized is None:
        return [("Shoes dealt", shoes)]
    casino = normalized.get("casino") or {}
    counting = normalized.get("counting_strategy") or {}
    reading = (
        "running count"
        if counting.get("unbalanced")
        else (
            f"true count, {counting.get('deck_estimation', 'exact')} deck estimation, "
            f"rounding {counting.get('true_count_rounding', 'none')}"
        )
    )
    return [
        ("Casino", f"{casino.get('name') or 'custom'}: {_casino_text(casino)}"),
        ("Count", f"{counting.get('name') or 'custom'} ({reading})"),
        ("Plays", f"{len(normalized.get('plays') or [])}"),
        ("Shoes dealt", shoes),
        ("Cards between states", f"{normalized.get('step', BLANK)}"),
    ]
