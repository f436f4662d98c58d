"""Every config dialect in, one typed, validated config out.

One module per section of a config, each turning its part of the raw JSON into the
dataclasses of `types` while recording every problem with its JSON path:

    types       the dataclasses (Rules, PlayingStrategy, ...), ConfigError, Resolver
    fields      limits and defaults, JSON paths, the problem list, the scalar checks
    context     profiles by name, inline, or overlaid on a parent
    rules       casino rules            charts      playing strategies
    betting     betting strategies      counting    counting systems
    players     players and normalize_config
    canonical   config_to_dict, the one spelling back out

`normalize_config` is the only place that knows JOST's dialects.
"""

from jost_engine.chart import ACTIONS, HARD_TOTALS, PAIR_KEYS, SOFT_TOTALS, UP_CARDS
from jost_engine.config.canonical import config_to_dict
from jost_engine.config.fields import (
    DEFAULT_BANKROLL,
    DEFAULT_COUNTING,
    DEFAULT_MIN_BET,
    FLAT_RAMP,
    IGNORED_FIELDS,
    MAX_DECKS,
    MAX_NAME_LENGTH,
    MAX_ROUNDS,
    MAX_SEATS,
    MAX_SPLIT_HANDS,
)
from jost_engine.config.players import normalize_config
from jost_engine.config.types import (
    BET_ACTIONS,
    BET_RESULTS,
    TAG_RANKS,
    BetRule,
    BettingStrategy,
    Config,
    ConfigError,
    CountingSystem,
    Player,
    PlayingStrategy,
    Resolver,
    Rules,
)

__all__ = [
    "ACTIONS",
    "BET_ACTIONS",
    "BET_RESULTS",
    "DEFAULT_BANKROLL",
    "DEFAULT_COUNTING",
    "DEFAULT_MIN_BET",
    "FLAT_RAMP",
    "HARD_TOTALS",
    "IGNORED_FIELDS",
    "MAX_DECKS",
    "MAX_NAME_LENGTH",
    "MAX_ROUNDS",
    "MAX_SEATS",
    "MAX_SPLIT_HANDS",
    "PAIR_KEYS",
    "SOFT_TOTALS",
    "TAG_RANKS",
    "UP_CARDS",
    "BetRule",
    "BettingStrategy",
    "Config",
    "ConfigError",
    "CountingSystem",
    "Player",
    "PlayingStrategy",
    "Resolver",
    "Rules",
    "config_to_dict",
    "normalize_config",
]
