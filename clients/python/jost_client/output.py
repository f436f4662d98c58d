"""What the `jost` command prints: the progress bar, the per-seat summary, the per-count
CSV and plain tables."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from typing import Any, TextIO

from jost_client.models import JobStatus


def clock(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "--:--"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def progress_line(done: int, total: int, rate: float | None, eta: float | None, unit: str) -> str:
    """`[#####.........]  45%  450,000 / 1,000,000 rounds  12,345 rounds/s  0:35 left`"""
    width = 30
    fraction = done / total if total else 0.0
    filled = int(width * min(fraction, 1.0))
    speed = f"{rate:,.0f} {unit}/s" if rate else f"-- {unit}/s"
    return (
        f"[{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%}  "
        f"{done:,} / {total:,} {unit}  {speed}  {clock(eta):>8} left"
    )


class Bar:
    """Draws the line in place on `stream` (a terminal or a log alike)."""

    def __init__(self, stream: TextIO, unit: str = "rounds") -> None:
        self.stream, self.unit, self.drawn = stream, unit, False

    def status(self, current: JobStatus) -> None:
        p = current.progress
        line = progress_line(p.rounds_done, p.rounds_total, p.rate, p.eta_seconds, self.unit)
        self.draw(f"{line}  {current.status}")

    def draw(self, line: str) -> None:
        self.stream.write(f"\r{line}")
        self.stream.flush()
        self.drawn = True

    def end(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(
            c.rjust(w) if i else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:,.{digits}f}"


def edge_interval(player: dict[str, Any]) -> tuple[float, float] | None:
    """The player's edge with the 95% interval of EV per round carried over to it (EV per
    round over the amount wagered per round)."""
    ci = player.get("ev_per_round_95ci")
    edge, ev = player.get("player_edge"), player.get("ev_per_round")
    rounds, wagered = player.get("rounds_played") or 0, player.get("total_wagered") or 0
    if not ci or edge is None or ev is None or not rounds or not wagered:
        return None
    per_round = wagered / rounds
    return edge + (ci[0] - ev) / per_round, edge + (ci[1] - ev) / per_round


def summary(results: dict[str, Any]) -> str:
    """The table a player reads: per seat, edge with its interval, EV and SD per round and
    per hour, N0, SCORE and risk of ruin."""
    if "players" not in results:
        return index_summary(results)
    rows = []
    for seat, p in enumerate(results["players"]):
        interval = edge_interval(p)
        edge = p.get("player_edge")
        edge_text = "-" if edge is None else f"{edge:+.3%}"
        if interval:
            edge_text += f" [{interval[0]:+.3%}, {interval[1]:+.3%}]"
        rows.append(
            [
                seat,
                p.get("name", ""),
                edge_text,
                _num(p.get("ev_per_round"), 4),
                _num(p.get("sd_per_round"), 3),
                _num(p.get("win_per_hour")),
                _num(p.get("sd_per_hour")),
                _num(p.get("n0"), 0),
                _num(p.get("score")),
                "-" if p.get("risk_of_ruin") is None else f"{p['risk_of_ruin']:.2%}",
            ]
        )
    head = (
        f"{results.get('rounds_played', 0):,} of {results.get('rounds_asked', 0):,} rounds, "
        f"seed {results.get('seed')}"
    )
    headers = ["seat", "player", "edge [95%]", "EV/round", "SD/round", "EV/hour", "SD/hour"]
    return head + "\n" + table([*headers, "N0", "SCORE", "RoR"], rows)


def index_summary(results: dict[str, Any]) -> str:
    """An index job's plays (docs/INDICES.md, The result): index, rounded, interval, when."""
    rows = []
    for play in results.get("indices") or []:
        if isinstance(play, dict):
            actions = "/".join(str(a) for a in play.get("actions") or [])
            interval = play.get("interval")
            rows.append(
                [
                    " v ".join(str(part) for part in (play.get("hand"), play.get("vs")) if part),
                    actions,
                    play.get("index"),
                    play.get("index_rounded"),
                    "" if not interval else f"[{interval[0]}, {interval[1]}]",
                    play.get("when") or play.get("note") or "",
                ]
            )
    return table(["play", "actions", "index", "rounded", "95%", "when"], rows)


def counts_csv(results: dict[str, Any]) -> str:
    """The per-count table of every seat, one row per seat and true count."""
    out = io.StringIO()
    writer: Any = None
    for seat, p in enumerate(results.get("players") or []):
        for row in p.get("true_count_table") or []:
            if writer is None:
                writer = csv.DictWriter(out, ["seat", "player", *row], lineterminator="\n")
                writer.writeheader()
            writer.writerow({"seat": seat, "player": p.get("name", ""), **row})
    return out.getvalue()
