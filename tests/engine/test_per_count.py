"""`"analysis": "per_count"` on a player: one unit flat at every count, counting, and the
true-count table in the results."""

from __future__ import annotations

import pytest

from jost_engine import ConfigError, config_to_dict, normalize_config, run_simulation_from_config
from jost_engine.config.fields import FLAT_RAMP


def config(player: dict, rounds: int = 20_000) -> dict:
    return {
        "casino": {"deck_count": 6},
        "num_rounds": rounds,
        "seed": 15,
        "stop_when_broke": False,
        "players": [{"counting_strategy": "hilo", **player}],
    }


class TestConfig:
    def test_it_bets_flat_whatever_the_profile_ramp(self):
        # master_player bets master_betting_strategy's 1-8 ramp; the analysis replaces it.
        player = normalize_config(
            config({"profile": "master_player", "analysis": "per_count"})
        ).players[0]
        assert player.analysis == "per_count"
        assert player.betting.ramp == FLAT_RAMP
        assert player.betting.min_bet == 10
        assert player.betting.wong_in is None and player.betting.wong_out is None

    def test_it_survives_the_normalised_config(self):
        normal = normalize_config(config({"analysis": "per_count"}))
        again = normalize_config(config_to_dict(normal))
        assert again == normal
        assert config_to_dict(normal)["players"][0]["analysis"] == "per_count"

    def test_a_player_without_it_has_none(self):
        assert normalize_config(config({})).players[0].analysis is None
        assert "analysis" not in config_to_dict(normalize_config(config({})))["players"][0]

    @pytest.mark.parametrize("value", ["per_hand", 3, True])
    def test_it_names_a_bad_analysis(self, value):
        with pytest.raises(ConfigError) as caught:
            normalize_config(config({"analysis": value}))
        assert [p for p, _ in caught.value.problems] == ["players[0].analysis"]


class TestResults:
    def test_the_results_carry_the_table_of_a_flat_bet(self):
        document = run_simulation_from_config(config({"analysis": "per_count"}))
        player = document["players"][0]
        table = player["true_count_table"]
        assert sum(row["rounds"] for row in table) == player["rounds_played"] == 20_000
        # One unit at every count: the average bet is min_bet in every row.
        assert {row["bet_per_round"] for row in table} == {10.0}
        assert len(table) > 5  # a 6-deck Hi-Lo shoe visits many counts

    def test_a_flat_player_without_it_has_no_table(self):
        document = run_simulation_from_config(config({}))
        assert "true_count_table" not in document["players"][0]
