"""Runs side by side: 2 to 6 results documents, seat by seat, with the difference of each
run from the first, its standard error and z, and where their configs differ.

The runs are independent simulations (their own seeds), so the standard error of a
difference is sqrt(se_a^2 + se_b^2). Only the figures whose results already carry a
standard error get one (docs/RESULTS.md: a mean's SE is its SD / sqrt(rounds); the edge's
is the EV's over the average wagered per round, as the dashboard's edge interval is). SD,
DI, SCORE, N0 and risk of ruin are derived with no interval of their own, so their
difference is shown without SE or z rather than with an invented one.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from jost_engine.config import ConfigError
from jost_engine.stats import finite, finite_number

MIN_RUNS, MAX_RUNS = 2, 6


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    # The figure's standard error from the player's own fields, or None when the results
    # carry none for it.
    se: Callable[[dict[str, Any]], float | None] | None = None


def _n(player: dict[str, Any]) -> int:
    n = player.get("rounds_played")
    return n if isinstance(n, int) else 0


def _se_of_mean(sd_field: str, scale: Callable[[dict[str, Any]], float] | None = None) -> Any:
    """SE = SD / sqrt(n) of the mean whose sample SD is `sd_field` (times `scale`, for a
    figure that is that mean times a constant, as the win per hour is)."""

    def se(player: dict[str, Any]) -> float | None:
        sd, n = player.get(sd_field), _n(player)
        if not isinstance(sd, (int, float)) or n < 2:
            return None
        factor = scale(player) if scale else 1.0
        return float(sd) / math.sqrt(n) * factor

    return se


def _rounds_per_hour(player: dict[str, Any]) -> float:
    rate = player.get("rounds_per_hour")
    return float(rate) if isinstance(rate, (int, float)) else math.nan


def _per_wagered(player: dict[str, Any]) -> float:
    # The edge is the EV per round over the average wagered per round; its SE treats the
    # wager per round as known, as the dashboard's edge interval does (approximate with
    # doubles, splits and a ramp, which make the wager vary with the result).
    wagered, n = player.get("total_wagered"), _n(player)
    return n / float(wagered) if isinstance(wagered, (int, float)) and wagered > 0 else math.nan


METRICS: tuple[Metric, ...] = (
    Metric("ev_per_round", "EV per round", "money", _se_of_mean("sd_per_round")),
    Metric("ev_per_unit", "EV per unit", "units", _se_of_mean("sd_per_unit")),
    Metric(
        "player_edge", "Edge (net / wagered)", "fraction", _se_of_mean("sd_per_round", _per_wagered)
    ),
    Metric("flat_edge", "Flat edge", "fraction", _se_of_mean("flat_sd")),
    Metric("sd_per_round", "SD per round", "money"),
    Metric("di", "DI", ""),
    Metric("score", "SCORE", "units per 100 rounds"),
    Metric("n0", "N0", "rounds"),
    Metric("risk_of_ruin", "Risk of ruin", "probability"),
    Metric("win_per_hour", "Win per hour", "money", _se_of_mean("sd_per_round", _rounds_per_hour)),
    Metric("sd_per_hour", "SD per hour", "money"),
)


def difference(
    first: float | None, first_se: float | None, other: float | None, other_se: float | None
) -> dict[str, float | None] | None:
    """other - first, with sqrt(se_first^2 + se_other^2) and z = difference / SE: the runs
    are independent, so the variances of their estimates add. None when either value is
    missing; SE and z None when either SE is."""
    if first is None or other is None:
        return None
    diff = other - first
    se = math.hypot(first_se, other_se) if first_se is not None and other_se is not None else None
    z = diff / se if se else None
    return {"difference": diff, "standard_error": finite(se), "z": finite(z)}


def _flatten(value: Any, path: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten(item, f"{path}.{key}" if path else str(key), out)
    elif isinstance(value, list) and value:
        for i, item in enumerate(value):
            _flatten(item, f"{path}[{i}]", out)
    else:
        out[path] = value


ABSENT = "(absent)"


def _shown(present: bool, value: Any) -> str:
    return json.dumps(value) if present else ABSENT


def config_differences(configs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every leaf of the normalised configs where they do not all agree, by JSON path
    (`casino.hit_on_soft_17`, `players[0].betting_strategy.bet_ramp[2].bet`), in the
    first config's order and then any path only a later one has. `values` holds each
    config's value (null where it has none: `present` says which), `text` the line a
    reader scans: `casino.hit_on_soft_17: true vs false`."""
    flat: list[dict[str, Any]] = []
    for config in configs:
        leaves: dict[str, Any] = {}
        _flatten(config, "", leaves)
        flat.append(leaves)
    paths = list(dict.fromkeys(path for leaves in flat for path in leaves))
    out = []
    for path in paths:
        present = [path in leaves for leaves in flat]
        values = [leaves.get(path) for leaves in flat]
        shown = [_shown(p, v) for p, v in zip(present, values, strict=True)]
        if len(set(shown)) > 1:
            out.append(
                {
                    "path": path,
                    "values": values,
                    "present": present,
                    "text": f"{path}: {' vs '.join(shown)}",
                }
            )
    return out


def _seat_rows(players: Sequence[dict[str, Any] | None]) -> list[dict[str, Any]]:
    rows = []
    for metric in METRICS:
        values = [finite_number(p.get(metric.key)) if p else None for p in players]
        ses = [
            finite(metric.se(p)) if p and metric.se and values[j] is not None else None
            for j, p in enumerate(players)
        ]
        rows.append(
            {
                "metric": metric.key,
                "label": metric.label,
                "unit": metric.unit,
                "values": values,
                "standard_errors": ses,
                "differences": [None]
                + [difference(values[0], ses[0], values[j], ses[j]) for j in range(1, len(values))],
            }
        )
    return rows


def compare_results(
    documents: Sequence[dict[str, Any]],
    configs: Sequence[dict[str, Any] | None] | None = None,
    labels: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The comparison of 2 to 6 results documents (docs/RESULTS.md), the first the base.

    `configs` are their normalised configs (default: each document's own `config`),
    `labels` what names each run (default "run 1", "run 2", ...). Seats are matched by
    position; a seat one run lacks has null figures there. ConfigError naming `jobs` for
    fewer than 2 or more than 6 documents, or one that is not a results document.

    Returns {"runs": [{"label"}], "metrics": [{"key", "label", "unit"}],
    "seats": [{"seat", "names", "rows": [{"metric", "label", "unit", "values",
    "standard_errors", "differences": [null, {"difference", "standard_error", "z"}, ...]}]}],
    "config_differences": [{"path", "values", "present", "text"}]}; JSON-ready (no NaN)."""
    count = len(documents)
    if not MIN_RUNS <= count <= MAX_RUNS:
        raise ConfigError([("jobs", f"compare {MIN_RUNS} to {MAX_RUNS} runs, not {count}")])
    labels = list(labels) if labels is not None else [f"run {j + 1}" for j in range(count)]
    if len(labels) != count:
        raise ConfigError([("jobs", f"{len(labels)} labels for {count} runs")])
    problems = [
        ("jobs", f"{labels[j]}: not a results document (no players)")
        for j, doc in enumerate(documents)
        if not isinstance(doc, dict) or not isinstance(doc.get("players"), list)
    ]
    if problems:
        raise ConfigError(problems)
    chosen = list(configs) if configs is not None else [doc.get("config") for doc in documents]
    seat_count = max(len(doc["players"]) for doc in documents)
    seats = []
    for seat in range(seat_count):
        players = [
            doc["players"][seat]
            if seat < len(doc["players"]) and isinstance(doc["players"][seat], dict)
            else None
            for doc in documents
        ]
        seats.append(
            {
                "seat": seat,
                "names": [p.get("name") if p else None for p in players],
                "rows": _seat_rows(players),
            }
        )
    return {
        "runs": [{"label": label} for label in labels],
        "metrics": [{"key": m.key, "label": m.label, "unit": m.unit} for m in METRICS],
        "seats": seats,
        "config_differences": config_differences(
            [c if isinstance(c, dict) else {} for c in chosen]
        ),
    }


def _text(value: str) -> str:
    # A name a user typed, opened in a spreadsheet: a leading = + - @ would be a formula.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _cell(value: float | None) -> str:
    return "" if value is None else repr(value)


def comparison_csv(comparison: dict[str, Any]) -> str:
    """The comparison's table as CSV: one line per seat and figure, each run's value, then
    for every run after the first its difference from the first, SE and z (empty where
    there is none). Numbers at full precision."""
    labels = [run["label"] for run in comparison["runs"]]
    labels = [_text(label) for label in labels]
    header = ["seat", "player", "metric", *labels]
    for label in labels[1:]:
        header += [f"{label} - {labels[0]}", f"SE ({label})", f"z ({label})"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for seat in comparison["seats"]:
        names = " / ".join(dict.fromkeys(str(n) for n in seat["names"] if n is not None))
        for row in seat["rows"]:
            line = [str(seat["seat"]), _text(names), row["metric"]]
            line += [_cell(v) for v in row["values"]]
            for diff in row["differences"][1:]:
                if diff is None:
                    line += ["", "", ""]
                else:
                    line += [
                        _cell(diff["difference"]),
                        _cell(diff["standard_error"]),
                        _cell(diff["z"]),
                    ]
            writer.writerow(line)
    return out.getvalue()
