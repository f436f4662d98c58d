"""The job pages' charts as plain geometry for an inline SVG template: no JavaScript,
no chart library, so they render with scripts off and print as they look.

Each function takes a part of a results document and returns what
templates/dashboard/_chart.html draws (pixel coordinates in a fixed viewBox that the
browser scales to the page's width), or None when the document has nothing to plot.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

WIDTH, HEIGHT = 720, 320
LEFT, RIGHT, TOP, BOTTOM = 78, 16, 16, 44
# Colour-blind-safe (Okabe-Ito), one per seat in order.
PALETTE = ("#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000")
Z95 = 1.959963984540054


@dataclass
class Series:
    name: str
    color: str
    points: str = ""  # a polyline's "x,y x,y ..."
    marks: list[dict[str, float | str]] = field(default_factory=list)  # points with bars


@dataclass
class Marker:
    """A vertical line at x (an index) over a shaded band (its interval, clipped to the
    plot): pixel coordinates, like everything else in a Chart."""

    x: float
    label: str
    title: str
    band_x: float
    band_width: float
    # The label sits beside the line, on the side with room for it.
    label_x: float = 0.0
    anchor: str = "start"


@dataclass
class Chart:
    title: str
    x_label: str
    y_label: str
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    series: list[Series]
    reference_y: float | None = None  # a dashed line: the start bankroll, or EV 0
    # A second y axis, on the right, for a second series in other units (the ramp's edge).
    y2_ticks: list[tuple[float, str]] = field(default_factory=list)
    y2_label: str = ""
    marker: Marker | None = None
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM

    @property
    def plot_height(self) -> int:
        return self.bottom - self.top


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) covering low..high."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high <= low:
        high = low + (abs(low) or 1.0)
    raw = (high - low) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 10))
    return ticks


def tick_label(value: float) -> str:
    """12,500 or 2.5k style labels short enough for the axis."""
    value += 0.0  # a tick at -0.0 (rounding a small negative) reads "0", not "-0"
    size = abs(value)
    if size >= 1e6:
        return f"{value / 1e6:g}M"
    if size >= 1e4:
        return f"{value / 1e3:g}k"
    if size >= 100 or value == int(value):
        return f"{value:,.0f}"
    return f"{value:g}"


class _Scale:
    def __init__(self, low: float, high: float, out_low: float, out_high: float) -> None:
        self.low, self.span = low, (high - low) or 1.0
        self.out_low, self.out_span = out_low, out_high - out_low

    def __call__(self, value: float) -> float:
        return round(self.out_low + (value - self.low) / self.span * self.out_span, 2)


def _frame(
    x_values: Sequence[float], y_values: Sequence[float]
) -> tuple[list[float], list[float], _Scale, _Scale]:
    x_ticks = nice_ticks(min(x_values), max(x_values))
    y_ticks = nice_ticks(min(y_values), max(y_values))
    x = _Scale(x_ticks[0], x_ticks[-1], LEFT, WIDTH - RIGHT)
    y = _Scale(y_ticks[0], y_ticks[-1], HEIGHT - BOTTOM, TOP)
    return x_ticks, y_ticks, x, y


def bankroll_chart(players: Sequence[dict[str, Any]]) -> Chart | None:
    """Each player's bankroll_path ([round, bankroll] pairs) as a line, with the start
    bankroll dashed when every seat starts from the same one."""
    paths = [(p, p.get("bankroll_path") or []) for p in players]
    paths = [(p, path) for p, path in paths if path]
    if not paths:
        return None
    xs = [point[0] for _, path in paths for point in path]
    ys = [point[1] for _, path in paths for point in path]
    x_ticks, y_ticks, x, y = _frame(xs, ys)
    series = [
        Series(
            name=str(player.get("name", f"seat {i}")),
            color=PALETTE[i % len(PALETTE)],
            points=" ".join(f"{x(r)},{y(b)}" for r, b in path),
        )
        for i, (player, path) in enumerate(paths)
    ]
    starts = {player.get("initial_bankroll") for player, _ in paths}
    start = starts.pop() if len(starts) == 1 else None
    return Chart(
        title="Bankroll path",
        x_label="round",
        y_label="bankroll",
        x_ticks=[(x(t), tick_label(t)) for t in x_ticks],
        y_ticks=[(y(t), tick_label(t)) for t in y_ticks],
        series=series,
        reference_y=y(start) if isinstance(start, (int, float)) else None,
    )


def ev_by_count_chart(players: Sequence[dict[str, Any]]) -> Chart | None:
    """EV per round at each true count with its 95% interval (mean -/+ 1.96 SD/sqrt(n),
    as docs/RESULTS.md computes the overall one), one colour per player. A row of one
    round has no SD, so it is drawn without a bar."""
    tables = [(p, p.get("true_count_table") or []) for p in players]
    tables = [(p, t) for p, t in tables if t]
    if not tables:
        return None
    rows: list[tuple[int, float, float, float, dict[str, Any]]] = []
    for seat, (_, table) in enumerate(tables):
        for row in table:
            mean = row.get("ev_per_round")
            if mean is None:
                continue
            sd, n = row.get("sd_per_round"), row.get("rounds") or 0
            half = Z95 * sd / math.sqrt(n) if sd is not None and n > 1 else 0.0
            rows.append((seat, mean - half, mean, mean + half, row))
    if not rows:
        return None
    counts = [int(row["true_count"]) for *_, row in rows]
    # EV 0 is always in view: which side of it a count falls on is the point of the chart.
    bounds = [0.0, *(r[1] for r in rows), *(r[3] for r in rows)]
    _, y_ticks, _, y = _frame([0.0, 1.0], bounds)
    # The counts are whole numbers (-10..+10): the axis spans exactly those seen.
    low, high = min(counts), max(counts)
    x = _Scale(low - 0.7, high + 0.7, LEFT, WIDTH - RIGHT)
    x_ticks = list(range(low, high + 1, 1 if high - low <= 12 else 2))
    # Several players at one count sit side by side rather than on top of each other.
    offset = 0.12
    series = []
    for seat, (player, _) in enumerate(tables):
        shift = (seat - (len(tables) - 1) / 2) * offset
        marks: list[dict[str, float | str]] = [
            {
                "x": x(row["true_count"] + shift),
                "y": y(mean),
                "y_low": y(low),
                "y_high": y(high),
                "title": (
                    f"{player.get('name')}: true count {row['true_count']}, "
                    f"EV {mean:+.3f} per round [{low:+.3f}, {high:+.3f}], "
                    f"{row.get('rounds', 0):,} rounds"
                ),
            }
            for s, low, mean, high, row in rows
            if s == seat
        ]
        series.append(
            Series(
                name=str(player.get("name", f"seat {seat}")),
                color=PALETTE[seat % len(PALETTE)],
                marks=marks,
            )
        )
    return Chart(
        title="EV by true count (95% interval)",
        x_label="true count",
        y_label="EV per round",
        x_ticks=[(x(t), f"{t:+d}" if t else "0") for t in x_ticks],
        y_ticks=[(y(t), tick_label(t)) for t in y_ticks],
        series=series,
        reference_y=y(0.0),
    )


# The ramp chart's right margin holds the edge axis's labels.
RAMP_RIGHT = 64


def ramp_chart(ramp: Sequence[dict[str, Any]]) -> Chart | None:
    """An optimal-bets answer's ramp: the bet at each true count (left axis, money) over
    the flat edge there (right axis, percent), with the edge's 0 dashed, so a reader sees
    the bet rise where the edge turns positive. A wonged-out count (bet null) has no bet
    point. None for an empty ramp."""
    if not ramp:
        return None
    counts = [int(row["true_count"]) for row in ramp]
    bets = [(int(row["true_count"]), float(row["bet"])) for row in ramp if row["bet"] is not None]
    edges = [(int(row["true_count"]), float(row["flat_edge"])) for row in ramp]
    right = WIDTH - RAMP_RIGHT
    low, high = min(counts), max(counts)
    x = _Scale(low - 0.7, high + 0.7, LEFT, right)
    x_ticks = list(range(low, high + 1, 1 if high - low <= 12 else 2))
    # Bets from 0, so the spread reads as the ratio of the heights.
    bet_ticks = nice_ticks(0.0, max((b for _, b in bets), default=1.0))
    y = _Scale(bet_ticks[0], bet_ticks[-1], HEIGHT - BOTTOM, TOP)
    edge_ticks = nice_ticks(min(0.0, *(e for _, e in edges)), max(0.0, *(e for _, e in edges)))
    y2 = _Scale(edge_ticks[0], edge_ticks[-1], HEIGHT - BOTTOM, TOP)

    def marks(
        points: list[tuple[int, float]], scale: _Scale, text: str
    ) -> list[dict[str, float | str]]:
        return [
            {
                "x": x(c),
                "y": scale(v),
                "y_low": scale(v),
                "y_high": scale(v),
                "title": text.format(c=c, v=v),
            }
            for c, v in points
        ]

    series = [
        Series(
            name="Bet (left axis)",
            color=PALETTE[0],
            points=" ".join(f"{x(c)},{y(b)}" for c, b in bets),
            marks=marks(bets, y, "true count {c:+d}: bet {v:,.2f}"),
        ),
        Series(
            name="Flat edge (right axis)",
            color=PALETTE[1],
            points=" ".join(f"{x(c)},{y2(e)}" for c, e in edges),
            marks=marks(edges, y2, "true count {c:+d}: edge {v:+.2%} per unit bet"),
        ),
    ]
    return Chart(
        title="Bet and edge by true count",
        x_label="true count",
        y_label="bet",
        x_ticks=[(x(t), f"{t:+d}" if t else "0") for t in x_ticks],
        y_ticks=[(y(t), tick_label(t)) for t in bet_ticks],
        series=series,
        reference_y=y2(0.0),
        right=right,
        y2_ticks=[(y2(t), f"{t * 100:g}%") for t in edge_ticks],
        y2_label="edge",
    )


def _count_step(span: float) -> int:
    """Whole-count ticks, no more than about 12 of them: a running count spans far more
    counts than a true count does."""
    return next(step for step in (1, 2, 5, 10, 20, 50, 100) if span / step <= 12)


def signed(value: float, digits: int = 1) -> str:
    """+1.5, -0.3, 0.0: a count as a player writes an index (and never "-0.0")."""
    text = f"{value:+.{digits}f}"
    return text[1:] if float(text) == 0 else text


def index_curve_chart(play: dict[str, Any]) -> Chart | None:
    """One play of an index job's result (jost_engine.indices.index_results): EV(b) -
    EV(a) in each count bucket, at the bucket's mean count, with its 95% bar (1.96 SE,
    the SE the fit weighed the bucket by), the zero line dashed, and the index as a
    vertical line over its 95% interval. A play with no index (null: it never changes, or
    the run could not tell) has no marker; its note says why. None without buckets."""
    rows = [
        row
        for row in play.get("curve") or []
        if isinstance(row.get("ev_diff"), (int, float))
        and isinstance(row.get("count"), (int, float))
    ]
    if not rows:
        return None
    count_kind = "running count" if play.get("count") == "running" else "true count"
    points = []
    for row in rows:
        where = row.get("mean_count")
        where = float(where if isinstance(where, (int, float)) else row["count"])
        se = row.get("se")
        half = Z95 * float(se) if isinstance(se, (int, float)) else 0.0
        points.append((where, float(row["ev_diff"]), half, row))
    index = play.get("index")
    index = float(index) if isinstance(index, (int, float)) else None
    # The index is always in view (a crossing the fit found between two buckets).
    xs = [p[0] for p in points] + ([index] if index is not None else [])
    low, high = math.floor(min(xs)), math.ceil(max(xs))
    x = _Scale(low - 0.5, high + 0.5, LEFT, WIDTH - RIGHT)
    step = _count_step(high - low)
    x_ticks = list(range(math.ceil(low / step) * step, high + 1, step))
    # EV difference 0 is always in view: the crossing is the point of the chart.
    bounds = [0.0, *(y - h for _, y, h, _ in points), *(y + h for _, y, h, _ in points)]
    y_ticks = nice_ticks(min(bounds), max(bounds))
    y = _Scale(y_ticks[0], y_ticks[-1], HEIGHT - BOTTOM, TOP)
    a, b = actions_of(play, "a", "b")
    marks: list[dict[str, float | str]] = [
        {
            "x": x(where),
            "y": y(mean),
            "y_low": y(mean - half),
            "y_high": y(mean + half),
            "title": (
                f"{count_kind} {signed(float(row['count']))} (mean {signed(where, 2)}): "
                f"EV({b}) - EV({a}) {mean:+.4f} ± {half:.4f}, {int(row.get('n') or 0):,} states"
            ),
        }
        for where, mean, half, row in points
    ]
    marker = None
    if index is not None:
        interval = play.get("interval")
        if isinstance(interval, list) and len(interval) == 2 and None not in interval:
            start, end = float(interval[0]), float(interval[1])
            left, right = max(x(start), LEFT), min(x(end), WIDTH - RIGHT)
            title = f"index {signed(index)}, 95% interval [{signed(start, 2)}, {signed(end, 2)}]"
        else:
            left = right = x(index)
            title = f"index {signed(index)}"
        at = x(index)
        room_right = at < (LEFT + WIDTH - RIGHT) / 2 + 120
        marker = Marker(
            x=at,
            label=f"index {signed(index)}",
            title=title,
            band_x=left,
            band_width=round(max(right - left, 0.0), 2),
            label_x=round(at + 5 if room_right else at - 5, 2),
            anchor="start" if room_right else "end",
        )
    return Chart(
        title=play_title(play),
        x_label=count_kind,
        y_label=f"EV({b}) - EV({a})",
        x_ticks=[(x(t), signed(t, 0)) for t in x_ticks],
        y_ticks=[(y(t), tick_label(t)) for t in y_ticks],
        series=[Series(name=f"EV({b}) - EV({a})", color=PALETTE[0], marks=marks)],
        reference_y=y(0.0),
        marker=marker,
    )


def actions_of(play: dict[str, Any], a: str = "?", b: str = "?") -> tuple[str, str]:
    """A play's (a, b) as text, the given fillers for what a document leaves out."""
    given = [str(action) for action in play.get("actions") or []]
    return (given[0] if given else a), (given[1] if len(given) > 1 else b)


def play_title(play: dict[str, Any]) -> str:
    """16 vs 10: H → S, or Insurance: decline → insure."""
    a, b = actions_of(play)
    hand = str(play.get("hand", "?"))
    if hand == "insurance":
        return f"Insurance: {a} → {b}"
    return f"{hand} vs {play.get('vs', '?')}: {a} → {b}"
