"""What `jost` prints from a results document: the per-seat summary a player reads, the
per-count CSV and an index job's table (documents written out here, no service)."""

from __future__ import annotations

import csv
import io

from jost_client import output

PLAYER = {
    "name": "master_player",
    "rounds_played": 2000,
    "total_wagered": 40000.0,
    "player_edge": 0.05,
    "ev_per_round": 1.0,
    "ev_per_round_95ci": [0.0, 2.0],
    "sd_per_round": 29.2,
    "win_per_hour": 100.0,
    "sd_per_hour": 292.0,
    "n0": 677.5,
    "score": 1476.1,
    "risk_of_ruin": 0.0123,
    "true_count_table": [
        {"true_count": -1, "rounds": 500, "ev_per_round": -0.5},
        {"true_count": 0, "rounds": 1500, "ev_per_round": 1.5},
    ],
}
DOC = {"rounds_played": 2000, "rounds_asked": 2000, "seed": 7, "players": [PLAYER]}


def test_the_summary_gives_each_seats_edge_with_its_interval_and_figures():
    text = output.summary(DOC)
    assert text.splitlines()[0] == "2,000 of 2,000 rounds, seed 7"
    # EV per round 1.0 +/- 1.0 over 20 wagered a round: the edge 5% +/- 5%.
    assert "+5.000% [+0.000%, +10.000%]" in text
    for figure in ("29.200", "100.00", "292.00", "678", "1,476.10", "1.23%"):
        assert figure in text, figure


def test_the_csv_is_the_per_count_table_of_every_seat():
    rows = list(csv.DictReader(io.StringIO(output.counts_csv(DOC))))
    assert [(r["seat"], r["true_count"], r["rounds"]) for r in rows] == [
        ("0", "-1", "500"),
        ("0", "0", "1500"),
    ]


def test_an_index_jobs_table_lists_each_play():
    doc = {
        "indices": [
            {
                "hand": "16",
                "vs": "10",
                "actions": ["H", "S"],
                "index": 0.2,
                "index_rounded": 1,
                "interval": [-0.1, 0.5],
                "when": "at or above",
            }
        ],
        "deviations": [],
    }
    line = output.summary(doc).splitlines()[2]
    assert line.split() == [
        "16",
        "v",
        "10",
        "H/S",
        "0.2",
        "1",
        "[-0.1,",
        "0.5]",
        "at",
        "or",
        "above",
    ]


def test_the_progress_line_says_rounds_rate_and_time_left():
    line = output.progress_line(450_000, 1_000_000, 12_345.0, 35, "rounds")
    assert line.startswith("[#############.................]  45%")
    assert "450,000 / 1,000,000 rounds  12,345 rounds/s" in line and line.endswith("0:35 left")
