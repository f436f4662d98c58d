"""jost_engine: a blackjack simulator. Plain Python with a numba inner loop; no Django here."""

from jost_engine.bets import CountRow, optimal_bets, per_count_rows
from jost_engine.chart import ACTION_CODE, chart_arrays
from jost_engine.compare import compare_results, comparison_csv, config_differences
from jost_engine.config import Config, ConfigError, config_to_dict, normalize_config
from jost_engine.footprint import Footprint, footprint
from jost_engine.profiles import default_profile, defaults
from jost_engine.risk import (
    bankroll_for_risk,
    certainty_equivalent,
    chance_of_loss,
    goal_before_ruin,
    hours_to_double,
    n0,
    risk_of_ruin,
    risk_report,
    trip_ruin,
)
from jost_engine.simulate import (
    SHARD_ROUNDS,
    ShardSpec,
    plan_shards,
    results,
    run_shard,
    run_shard_spec,
    run_shards,
    run_simulation_from_config,
    shard_seed,
)
from jost_engine.stats import Stats, merge
from jost_engine.strategy import resolve_playing_strategy

__version__ = "0.1.0"

__all__ = ["Config", "ConfigError", "__version__", "normalize_config"]
__all__ += ["ACTION_CODE", "chart_arrays", "resolve_playing_strategy"]
__all__ += ["config_to_dict", "default_profile", "defaults"]
__all__ += ["Stats", "merge", "results", "run_shard", "run_simulation_from_config"]
__all__ += ["SHARD_ROUNDS", "ShardSpec", "plan_shards", "run_shard_spec", "run_shards"]
__all__ += ["Footprint", "footprint", "shard_seed"]
__all__ += ["compare_results", "comparison_csv", "config_differences"]
__all__ += ["bankroll_for_risk", "certainty_equivalent", "chance_of_loss", "goal_before_ruin"]
__all__ += ["hours_to_double", "n0", "risk_of_ruin", "risk_report", "trip_ruin"]
__all__ += ["CountRow", "optimal_bets", "per_count_rows"]
