"""The shipped default profiles: all present, all loadable through normalize_config, served
as plain JSON by jost_engine.defaults()."""

import json
import subprocess
import sys

import pytest

import jost_engine
from jost_engine import profiles
from jost_engine.config import config_to_dict, normalize_config

REQUIRED = {
    "casinos": {
        "master_casino",
        "perfect_h17_casino",
        "perfect_s17_casino",
        "vegas_6d_s17_das",
        "vegas_6d_h17_das_ls",
        "shoe_8d_h17",
        "double_deck_h17",
        "single_deck_6to5",
        "european_6d_no_hole_card",
        "spanish21_6d_h17",
        "spanish21_6d_h17_redouble",
        "spanish21_8d_s17",
    },
    "players": {"master_player", "perfect_player_rich", "perfect_player_poor"},
    "playing_strategies": {
        "master_playing_strategy",
        "perfect_h17_basic_strategy",
        "perfect_s17_basic_strategy",
        "spanish21_6d_h17_basic_strategy",
    },
    "betting_strategies": {
        "master_betting_strategy",
        "basic_betting",
        "true_count_betting",
        "flat_betting",
    },
    "counting_systems": {"hilo", "ko", "hiopt1", "hiopt2", "omega2", "zen", "wong_halves"},
    "simulations": {"master_simulation"},
}

SHIPPED = jost_engine.defaults()


def run_with(**slot):
    """A minimal config with one profile dropped into its slot."""
    player = {"name": "p"}
    raw = {"casino": "master_casino", "num_rounds": 1, "players": [player]}
    for key, value in slot.items():
        if key == "casino":
            raw["casino"] = value
        else:
            player[key] = value
    return normalize_config(raw)


def test_every_required_default_is_shipped():
    for folder, names in REQUIRED.items():
        assert names <= set(SHIPPED[folder]), folder


def test_defaults_are_plain_json():
    assert json.loads(json.dumps(SHIPPED, allow_nan=False)) == SHIPPED


def test_defaults_hand_out_copies_that_cannot_change_the_shipped_profiles():
    jost_engine.defaults()["casinos"]["master_casino"]["deck_count"] = 1
    profiles.default_profile("casino", "master_casino")["deck_count"] = 1
    assert jost_engine.defaults()["casinos"]["master_casino"]["deck_count"] == 6


def test_the_files_are_read_once():
    profiles.default_profile("casino", "master_casino")
    before = profiles._shipped.cache_info().misses
    jost_engine.defaults()
    profiles.default_profile("player", "master_player")
    assert profiles._shipped.cache_info().misses == before


@pytest.mark.parametrize("name", sorted(SHIPPED["casinos"]))
def test_every_shipped_casino_normalises(name):
    assert run_with(casino=name, playing_strategy="auto").rules.name == name


@pytest.mark.parametrize("name", sorted(SHIPPED["players"]))
def test_every_shipped_player_normalises(name):
    cfg = normalize_config({"casino": "master_casino", "num_rounds": 1, "players": [name]})
    assert cfg.players[0].name == name


@pytest.mark.parametrize("name", sorted(SHIPPED["playing_strategies"]))
def test_every_shipped_playing_strategy_normalises(name):
    assert run_with(playing_strategy=name).players[0].playing.name == name


@pytest.mark.parametrize("name", sorted(SHIPPED["betting_strategies"]))
def test_every_shipped_betting_strategy_normalises(name):
    assert run_with(betting_strategy=name).players[0].betting.name == name


@pytest.mark.parametrize("name", sorted(SHIPPED["counting_systems"]))
def test_every_shipped_counting_system_normalises(name):
    assert run_with(counting_strategy=name).players[0].counting.name == name


@pytest.mark.parametrize("name", sorted(SHIPPED["simulations"]))
def test_every_shipped_simulation_normalises_and_round_trips(name):
    cfg = normalize_config(SHIPPED["simulations"][name])
    assert normalize_config(json.loads(json.dumps(config_to_dict(cfg)))) == cfg


def test_the_master_simulation_is_the_documented_one():
    cfg = normalize_config(SHIPPED["simulations"]["master_simulation"])
    assert cfg.rules.name == "master_casino" and cfg.num_rounds == 100_000 and cfg.seed == 42
    (player,) = cfg.players
    assert player.playing.auto and player.betting.name == "master_betting_strategy"


class TestShippedRules:
    def test_the_european_casino_has_no_hole_card_and_doubles_on_9_to_11(self):
        rules = run_with(casino="european_6d_no_hole_card").rules
        assert rules.dealer_peeks is False and rules.double_totals == (9, 10, 11)

    def test_the_single_deck_casino_pays_6_to_5(self):
        rules = run_with(casino="single_deck_6to5").rules
        assert rules.decks == 1 and rules.blackjack_payout == pytest.approx(1.2)

    @pytest.mark.parametrize(
        "name, hits",
        [
            ("perfect_h17_casino", True),
            ("perfect_s17_casino", False),
            ("vegas_6d_h17_das_ls", True),
            ("vegas_6d_s17_das", False),
        ],
    )
    def test_h17_and_s17_casinos_say_what_their_names_say(self, name, hits):
        assert run_with(casino=name).rules.hit_soft_17 is hits

    @pytest.mark.parametrize(
        "name, decks, hits, redoubles",
        [
            ("spanish21_6d_h17", 6, True, 0),
            ("spanish21_6d_h17_redouble", 6, True, 2),
            ("spanish21_8d_s17", 8, False, 0),
        ],
    )
    def test_the_spanish_21_casinos_say_what_their_names_say(self, name, decks, hits, redoubles):
        rules = run_with(casino=name, playing_strategy="perfect_h17_basic_strategy").rules
        assert rules.deck == "spanish" and rules.decks == decks and rules.hit_soft_17 is hits
        assert rules.max_redoubles == redoubles and rules.player_21_wins
        assert rules.bonus_five_card_21 == 1.5 and rules.bonus_777_spades == 3.0

    def test_the_infinite_deck_casino_has_an_infinite_shoe(self):
        assert run_with(casino="infinite_deck_s17_das").rules.decks == 0

    def test_the_infinite_deck_casino_states_its_own_exact_house_edge(self):
        # It splits to 4 hands: 0.5117%. The published 0.5094% is the unlimited-resplit
        # game (tests/engine/test_exact.py), which the description must not claim.
        from jost_engine.exact import infinite_deck_ev

        rules = run_with(casino="infinite_deck_s17_das").rules
        assert rules.max_split_hands == 4
        assert infinite_deck_ev(rules) == pytest.approx(-0.005117, abs=5e-7)
        description = profiles.default_profile("casino", "infinite_deck_s17_das")["description"]
        assert "0.5117%" in description


class TestDefaultResolver:
    def test_an_unknown_name_resolves_to_none(self):
        assert profiles.default_profile("casino", "nowhere") is None

    def test_an_unknown_kind_resolves_to_none(self):
        assert profiles.default_profile("table", "master_casino") is None

    def test_a_file_name_resolves_to_its_profile(self):
        # JOST's interfaces sent "master_casino.json"
        assert profiles.default_profile("casino", "master_casino.json")["name"] == "master_casino"

    def test_default_names_are_sorted(self):
        names = profiles.default_names("counting_system")
        assert names == sorted(names) and "hilo" in names


@pytest.mark.slow  # a fresh Python
def test_the_engine_never_imports_django():
    # The engine runs on its own (python -m jost_engine); Django stays in the service. A
    # fresh interpreter, since this one has Django loaded for the service's tests.
    script = (
        "import sys, jost_engine, jost_engine.exact, jost_engine.__main__\n"
        "from jost_engine import normalize_config, defaults, run_simulation_from_config\n"
        "run_simulation_from_config({'casino': 'master_casino', 'num_rounds': 10, 'players':"
        " [{'playing_strategy': 'perfect_s17_basic_strategy'}]})\n"
        "defaults()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'django', 'rest_framework'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"
