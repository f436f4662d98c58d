"""GET /api/engine/: what a client needs to build its forms."""

from __future__ import annotations

import jost_engine


class TestEngineInfo:
    def test_it_describes_the_engine_and_the_limits_in_force(self, alice_client, settings):
        settings.JOB_MAX_ACTIVE_PER_USER = 3
        body = alice_client.get("/api/engine/").json()
        assert body["version"] == jost_engine.__version__
        assert body["rules"]["deck_count"]["maximum"] == 8
        assert "hit_on_soft_17" in body["rules"]
        assert "hilo" in body["counting_systems"]
        assert len(body["counting_systems"]["hilo"]["tags"]) == 10
        assert "auto" in body["playing_strategies"]
        assert body["profile_types"] == [
            "casino",
            "player",
            "playing_strategy",
            "betting_strategy",
            "counting_system",
        ]
        assert body["limits"]["JOB_MAX_ACTIVE_PER_USER"] == 3
        assert body["limits"]["JOB_MAX_ROUNDS"] == settings.JOB_MAX_ROUNDS
        assert body["options"]["num_rounds"]["maximum"] == settings.JOB_MAX_ROUNDS

    def test_without_a_token_it_gets_401(self, anon_client):
        assert anon_client.get("/api/engine/").status_code == 401

    def test_it_lists_the_split_runs_counting_and_index_play_options(self, alice_client):
        body = alice_client.get("/api/engine/").json()
        options = body["options"]
        assert options["stop_when_broke"]["default"] is True
        assert options["sessions"]["minimum"] == 1
        assert options["rounds_per_hour"]["default"] == 100
        assert options["analysis"] == {"values": ["per_count"], "default": None}
        assert {"illustrious18", "fab4"} <= set(options["deviations"]["presets"])
        assert "half" in options["deck_estimation"]["values"]
        assert {"ko", "red7"} <= set(body["counting_systems"])
        assert body["rules"]["no_hole_card_loses"]["default"] == "all"

    def test_it_lists_the_progressions_and_what_a_betting_rule_may_say(self, alice_client):
        body = alice_client.get("/api/engine/").json()
        presets = {"martingale", "paroli", "dalembert", "oscars_grind", "one_three_two_six"}
        assert presets | {"count_paroli"} <= set(body["betting_strategies"])
        rules = body["options"]["bet_rules"]
        assert {"true_count_min", "last_result", "win_streak_min", "net_min", "step"} <= set(
            rules["conditions"]
        )
        assert rules["last_result"] == ["none", "win", "blackjack", "loss", "surrender", "push"]
        assert rules["actions"] == ["bet", "multiply", "add", "step", "reset"]
        assert {"bet_rules", "bet_steps"} <= set(body["options"]["betting_strategy_fields"])

    def test_it_lists_the_spanish_21_rules_at_the_common_games_defaults(self, alice_client):
        rules = alice_client.get("/api/engine/").json()["rules"]
        assert rules["deck"] == {
            "type": "str",
            "default": "standard",
            "values": ["standard", "spanish"],
        }
        assert rules["max_redoubles"]["default"] == 0 and rules["max_redoubles"]["maximum"] == 3
        assert rules["player_21_wins"]["default"] is False
        assert rules["bonus_five_card_21"]["default"] == 1
        assert rules["super_bonus"]["minimum"] == 0
        # The largest the validator accepts, as for every money field.
        assert rules["super_bonus"]["maximum"] == rules["envy_bonus"]["maximum"] == 10**12
