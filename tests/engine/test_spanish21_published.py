"""Spanish 21's `auto` strategy against Wizard of Odds' published figures.

The figures and their sources are in tests/data/spanish21_published.json (`_about`): the
house edge for 6 and 8 Spanish decks, H17 and S17, with and without redoubling, and the
three published basic strategy charts (H17, S17, H17 with redoubling), compared with
"auto" cell by cell. Each house edge is simulated with "auto" for ROUNDS rounds, enough
for a standard error of 0.02% at most, and must be within 4 of the run's own SEs of the
published one. The super and envy bonuses are money, not a
share of the bet, and the published table leaves them out: so do these runs.
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from jost_engine import default_profile
from jost_engine._spanish_shoe import rows
from jost_engine.config import PlayingStrategy, normalize_config
from jost_engine.simulate import run_simulation_from_config
from jost_engine.strategy import resolve_playing_strategy

PUBLISHED = json.loads(
    (Path(__file__).resolve().parents[1] / "data" / "spanish21_published.json").read_text()
)
# SD of a Spanish 21 round about 1.16 (1.28 with redoubling): 42 M rounds give an SE of
# 0.018% of the bet (0.0197% with redoubling; 40 M left it at 0.0202%), within the
# issue's 0.02%.
ROUNDS = 42_000_000
UP_CARDS = tuple(PUBLISHED["strategy"]["up_cards"])
CHARTS = PUBLISHED["strategy"]["charts"]


def casino(decks: int, hit_soft_17: bool, max_redoubles: int) -> dict[str, Any]:
    rules = default_profile("casino", "spanish21_6d_h17")
    rules.update(
        name=f"spanish 21 {decks}d",
        deck_count=decks,
        hit_on_soft_17=hit_soft_17,
        max_redoubles=max_redoubles,
        super_bonus=0,
        envy_bonus=0,
    )
    return rules


def house_edge(rules: dict[str, Any], seed: int, chart: Any = "auto") -> tuple[float, float]:
    """The house edge of a chart ("auto" unless given) in percent, and its SE, from a run
    of ROUNDS rounds."""
    config = {
        "casino": rules,
        "num_rounds": ROUNDS,
        "seed": seed,
        "stop_when_broke": False,
        "players": [
            {"bankroll": 1e12, "playing_strategy": chart, "betting_strategy": {"min_bet": 1}}
        ],
    }
    player = run_simulation_from_config(config)["players"][0]
    n = player["rounds_played"]
    assert n == ROUNDS
    return -100.0 * player["flat_edge"], 100.0 * player["flat_sd"] / math.sqrt(n)


def _row_id(row: dict[str, Any]) -> str:
    return f"{row['decks']}d-{'h17' if row['hit_soft_17'] else 's17'}-rd{row['max_redoubles']}"


# Seed 2026 (docs/CONFIG.md, "auto" for Spanish 21, has the table): without redoubling
# 0.1 to 2.2 SE above the published figures, with redoubling 1.9 SE below (a rescue
# forfeits only the original bet, and "auto" redoubles where the published table, made for
# a hand doubled once, rescues). Four more seeds: five-seed means 0.007% to 0.023% above,
# and 0.020% and 0.036% below with redoubling.
@pytest.mark.slow  # six runs of 42 M rounds
@pytest.mark.parametrize(
    "row", [pytest.param(row, id=_row_id(row)) for row in PUBLISHED["house_edge_percent"]["rows"]]
)
def test_the_house_edge_of_auto_is_the_published_one_within_4_se(row):
    rules = casino(row["decks"], row["hit_soft_17"], row["max_redoubles"])
    edge, se = house_edge(rules, seed=2026)
    assert se <= 0.02  # the run is as precise as the issue asks
    assert abs(edge - row["house_edge"]) <= 4 * se, (edge, se, row["house_edge"])


@cache
def auto_chart(name: str, rescue_forfeits: str = "original_bet") -> PlayingStrategy:
    """ "auto" for the rules of a published chart (its casino fields on the shipped 6-deck
    H17 game, the money bonuses off)."""
    fields = CHARTS[name]["casino"]
    rules = casino(fields["decks"], fields["hit_on_soft_17"], fields["max_redoubles"])
    rules["rescue_forfeits"] = rescue_forfeits
    config = normalize_config(
        {"casino": rules, "num_rounds": 1, "players": [{"bankroll": 1, "playing_strategy": "auto"}]}
    )
    return resolve_playing_strategy(config.players[0].playing, config.rules)


def auto_cell(chart: PlayingStrategy, cards: int, kind: str, total: int, up: str) -> str:
    """The chart's cell for a fresh hand of `cards` cards (its more_cards row if any)."""
    for lo, hi, tables in chart.more_cards:
        if lo <= cards <= hi and str(total) in tables.get(kind, {}):
            return tables[kind][str(total)][up]
    return (chart.hard if kind == "hard" else chart.soft)[str(total)][up]


def published_play(code: str, cards: int) -> str:
    """What a published code says for a hand of `cards` cards: H, S, D, P or R (its
    composition marks aside; a surrender is on two cards only, else a hit)."""
    base = code.rstrip("*'\"$")
    if base in ("R", "RH"):
        return "R" if cards == 2 else "H"
    if len(base) == 2:  # Dn, Sn: hit with n or more cards
        return base[0] if cards < int(base[1]) else "H"
    return base


def auto_play(cell: str, cards: int) -> str:
    """What one of auto's cells does with a hand of `cards` cards (in Spanish 21 a
    hand may double on any number of cards; surrender on two)."""
    if cell[0] == "D":
        return "D"
    if cell[0] == "R":
        return "R" if cards == 2 else cell[1].upper()
    return cell


def grid(rows: dict[str, str]) -> dict[str, dict[str, str]]:
    return {key: dict(zip(UP_CARDS, row.split(), strict=True)) for key, row in rows.items()}


def soft_total(key: str) -> int:
    """A soft row's total: "A-A" is soft 12, "A-7" soft 18."""
    return 12 if key == "A-A" else 11 + int(key.split("-")[1])


def differences(name: str, rescue_forfeits: str = "original_bet") -> list[str]:
    """Where auto plays otherwise than the published chart, cell by cell: fresh hands by
    number of cards (2 to 7, each that the row's total can have), pairs, and the table of
    a doubled hand (rescue, or with redoubling after_double)."""
    published, chart = CHARTS[name], auto_chart(name, rescue_forfeits)
    found = []
    for kind in ("hard", "soft"):
        for key, row in grid(published[kind]).items():
            total = int(key) if kind == "hard" else soft_total(key)
            for up, code in row.items():
                if code == "?":
                    continue
                if not two_card_hands(total, kind == "soft"):
                    # A row only a pair that may not split reaches (hard 4, 20; soft 12).
                    mine = auto_cell(chart, 2, kind, total, up)
                    if published_play(code, 2) != auto_play(mine, 2):
                        found.append(f"2 cards {kind} {total} vs {up}: {code} -> {mine}")
                for hand in two_card_hands(total, kind == "soft"):
                    theirs = published_two_card_play(code, hand)
                    mine = chart.compositions.get(hand, {}).get(up) or auto_cell(
                        chart, 2, kind, total, up
                    )
                    if theirs is not None and theirs != auto_play(mine, 2):
                        found.append(f"{hand} vs {up}: {code} -> {mine}")
                for cards in range(3, 8):
                    if not held(cards, total, kind == "soft"):
                        continue
                    mine = auto_cell(chart, cards, kind, total, up)
                    if published_play(code, cards) != auto_play(mine, cards):
                        found.append(f"{cards} cards {kind} {total} vs {up}: {code} -> {mine}")
    for key, row in grid(published["pairs"]).items():
        pair = key.replace("-", ",")
        for up, code in row.items():
            mine = chart.pairs[pair][up]
            if published_play(code, 2) != auto_play(mine, 2):
                found.append(f"pair {pair} vs {up}: {code} -> {mine}")
    if "rescue" in published:
        rescue = grid(published["rescue"])
        for total in range(12, 22):
            for up in UP_CARDS:
                code = rescue.get(str(total), {}).get(up, "S")
                mine = chart.rescue.get(str(total), {}).get(up, "S")
                if code != mine:
                    found.append(f"rescue {total} vs {up}: {code} -> {mine}")
    for kind in ("hard", "soft"):
        for key, row in grid(published.get(f"after_double_{kind}", {})).items():
            total = int(key) if kind == "hard" else soft_total(key)
            for up, code in row.items():
                mine = chart.after_double[kind].get(str(total), {}).get(up, "S")
                if code != mine:
                    found.append(f"after double {kind} {total} vs {up}: {code} -> {mine}")
    return found


def two_card_hands(total: int, soft: bool) -> list[str]:
    """The two-card hands of a row, pairs apart (their own table), as compositions keys."""
    hands = []
    for c1 in range(1, 11):
        for c2 in range(c1 + 1, 11):
            hard = c1 + c2
            is_soft = c1 == 1 and hard + 10 <= 21
            if (hard + 10 if is_soft else hard, is_soft) == (total, soft) and (c1, c2) != (1, 10):
                hands.append(",".join("A" if c == 1 else str(c) for c in (c1, c2)))
    return hands


# The published marks a chart by ranks cannot hold (suits): `'` hits a suited 6-7-8 draw,
# `"` a spaded one. Those hands are left out of the comparison (SUIT_MARKED lists them).
SIX_SEVEN_EIGHT = {"6,7", "6,8", "7,8"}


def published_two_card_play(code: str, hand: str) -> str | None:
    """What a published cell says for one two-card hand: the code's play, but a hit for a
    hand that can still make a 6-7-8 where the cell is marked `*`; None where the mark
    depends on the suits (`'`, `"`)."""
    if hand in SIX_SEVEN_EIGHT and code[-1] in "'\"":
        return None
    if hand in SIX_SEVEN_EIGHT and code.endswith("*"):
        return "H"
    return published_play(code, 2)


def suit_marked(name: str) -> list[str]:
    """The two-card hands whose published play depends on their suits."""
    found = []
    for kind in ("hard", "soft"):
        for key, row in grid(CHARTS[name][kind]).items():
            total = int(key) if kind == "hard" else soft_total(key)
            for up, code in row.items():
                for hand in two_card_hands(total, kind == "soft"):
                    if code != "?" and published_two_card_play(code, hand) is None:
                        found.append(f"{hand} vs {up}: {code}")
    return found


def held(cards: int, total: int, soft: bool) -> bool:
    """Can a hand of `cards` cards (below 21) have this total? Two cards always may."""
    return cards == 2 or (cards, total, soft) in rows()


# Each difference, and why: the reasons are computed, from the exact values of the
# six-deck shoe, in test_spanish21_exact.py (docs/CONFIG.md, "auto" for Spanish 21):
# - "shoe": auto's play is the better in the exact six-deck shoe (over the row of a hand
#   of three or more cards; for the hand itself on two);
# - "debated": a square of the redoubling chart where three independent analyses (Jeff Wu,
#   Stephen How, Katarina Walker's errata) print auto's play and Wizard of Odds' current
#   chart does not (the transcription's SOURCES.md); "shoe" holds there too;
# - "split": a split's value is the infinite deck's, and there the two plays are within
#   0.001 a hand of each other;
# - "pair row": hard 4 is reached on two cards only by a 2,2 that may not split, and its
#   cell is the infinite deck's (with redoubling, doubling is worth more there);
# - "unreached": a doubled hard 6 comes only from doubling a 2,2, which neither chart does
#   against this card; the cell is never played;
# - "rescue rule": a rescue forfeits the original bet however often the hand was
#   redoubled, so redoubling a doubled hand that may end rescued is worth more than the
#   published table (made for a hand doubled once) allows; solved with a rescue that
#   forfeits half the wager, "auto" plays the published cell.
EXPECTED_DIFFERENCES = {
    "h17": {
        "pair 3,3 vs 2: P -> H": "split",
    },
    "s17": {
        "3 cards hard 11 vs A: D3 -> Dh": "shoe",
    },
    "h17_redouble": {
        "2 cards hard 4 vs 6: H -> Dh": "pair row",
        "4 cards hard 10 vs 7: D -> H": "debated",
        "5 cards hard 10 vs 7: D -> H": "debated",
        "4 cards hard 10 vs 8: D5 -> H": "debated",
        "4 cards hard 11 vs 7: D5 -> H": "debated",
        "4 cards hard 11 vs 8: D5 -> H": "debated",
        "6 cards hard 17 vs 7: S6 -> S": "debated",
        "7 cards hard 17 vs 7: S6 -> S": "debated",
        "A,2 vs 3: H -> Dh": "debated",
        "A,3 vs 4: H -> Dh": "debated",
        "3 cards soft 14 vs 4: H -> Dh": "debated",
        "pair 3,3 vs 2: P -> H": "split",
        "after double hard 6 vs 3: D -> S": "unreached",
        "after double hard 6 vs 7: D -> S": "unreached",
        "A,2 vs 8: H -> Dh": "rescue rule",
        **{
            f"after double hard {total} vs {up}: R -> D": "rescue rule"
            for total, ups in (
                (6, "8 9 10 A"),
                (7, "8 9 10 A"),
                (8, "10 A"),
                (12, "9 10 A"),
                (13, "8"),
            )
            for up in ups.split()
        },
        **{f"after double soft 18 vs {up}: S -> D": "rescue rule" for up in ("8", "9", "10", "A")},
    },
}
# Two-card hands whose published play depends on their suits: a chart by ranks plays one
# way for every suit, and auto's cell is the better over all of them (it hits 6,8 vs 5
# and 7,8 vs 3 in H17, where the suited hands' bonus carries the rest; it stands on the
# others).
SUIT_MARKED = {
    "h17": ["6,8 vs 5: S5'", '6,8 vs 6: S6"', "7,8 vs 3: S5'"],
    "s17": ['7,8 vs 4: S5"', '7,8 vs 6: S6"'],
    "h17_redouble": ["6,8 vs 5: S5'", '6,8 vs 6: S6"', "7,8 vs 3: S5'"],
}


@pytest.mark.parametrize("name", list(CHARTS))
def test_auto_plays_the_published_chart_but_for_the_listed_cells(name):
    assert sorted(differences(name)) == sorted(EXPECTED_DIFFERENCES[name])
    assert suit_marked(name) == SUIT_MARKED[name]


# The two squares whose published print the transcription does not give exactly, played
# as the transcription settles them, for the runs of the published charts below.
SETTLED_SQUARES = {("s17", "A-9", "10"): "S", ("h17_redouble", "A-3", "3"): "D3"}


def published_chart(name: str) -> dict[str, Any]:
    """A published chart as a config chart: each code's play by number of cards (`Dn`
    doubles below n cards and hits from n, `Sn` stands below n; a surrender code
    surrenders two cards and hits more), `*` as `compositions` (the 6-7, 6-8 or 7-8 of
    that total hits), pairs (`R` surrenders, else splits), and the table of a doubled
    hand. The suit marks (`'`, `"`, `$`) are left out: a chart by ranks cannot hold them."""
    published = CHARTS[name]
    spans = {2: "", 3: "3", 4: "4", 5: "5", 6: "6", 7: "7+"}
    tables: dict[int, dict[str, dict[str, dict[str, str]]]] = {
        n: {"hard": {}, "soft": {}} for n in spans
    }
    compositions: dict[str, dict[str, str]] = {}
    as_chart = {"H": "H", "S": "S", "D": "Dh", "R": "Rh", "P": "P"}
    for kind in ("hard", "soft"):
        for key, row in grid(published[kind]).items():
            total = int(key) if kind == "hard" else soft_total(key)
            for up, code in row.items():
                code = SETTLED_SQUARES.get((name, key, up), code)
                for n in spans:
                    tables[n][kind].setdefault(str(total), {})[up] = as_chart[
                        published_play(code, n)
                    ]
                if code.endswith("*"):
                    for hand in SIX_SEVEN_EIGHT & set(two_card_hands(total, kind == "soft")):
                        compositions.setdefault(hand, {})[up] = "H"
    pairs = {
        key.replace("-", ","): {
            up: {"P": "P", "D": "Dh", "H": "H", "S": "S", "R": "Rp"}[code.rstrip("$")]
            for up, code in row.items()
        }
        for key, row in grid(published["pairs"]).items()
    }
    strategy: dict[str, Any] = {
        **tables[2],
        "pairs": pairs,
        "more_cards": {spans[n]: tables[n] for n in spans if n > 2},
        "compositions": compositions,
    }
    if "rescue" in published:
        strategy["rescue"] = grid(published["rescue"])
    if "after_double_hard" in published:
        soft_rows = grid(published["after_double_soft"])
        strategy["after_double"] = {
            "hard": grid(published["after_double_hard"]),
            "soft": {str(soft_total(key)): cells for key, cells in soft_rows.items()},
        }
    return {"name": f"published {name}", "strategy": strategy}


# The engine plays the published game: each published chart (six decks, its own deck
# count), played here, gives the published house edge. Seed 2026, 42 M rounds: H17 0.798%
# (0.78%, 1.0 SE), S17 0.399% (0.37%, 1.6 SE), H17 with redoubling 0.449% (0.42%, 1.5
# SE; with a rescue forfeiting half the wager, 0.480%). Seeds 11 and 12: 0.797, 0.795;
# 0.402, 0.368; 0.446, 0.459. Both sit a little above (docs/CONFIG.md).
@pytest.mark.slow  # three runs of 42 M rounds
@pytest.mark.parametrize("name", list(CHARTS))
def test_the_published_chart_played_here_gives_the_published_house_edge_within_4_se(name):
    fields = CHARTS[name]["casino"]
    (published,) = [
        row["house_edge"]
        for row in PUBLISHED["house_edge_percent"]["rows"]
        if (row["decks"], row["hit_soft_17"], row["max_redoubles"])
        == (fields["decks"], fields["hit_on_soft_17"], fields["max_redoubles"])
    ]
    rules = casino(fields["decks"], fields["hit_on_soft_17"], fields["max_redoubles"])
    edge, se = house_edge(rules, seed=2026, chart=published_chart(name))
    assert abs(edge - published) <= 4 * se, (edge, se, published)
