"""jost_engine: a blackjack simulator. Plain Python with a numba inner loop; no Django here."""

from jost_engine.config import Config, ConfigError, normalize_config
from jost_engine.strategy import ACTION_CODE, chart_arrays, resolve_playing_strategy

__version__ = "0.1.0"

__all__ = ["Config", "ConfigError", "normalize_config", "__version__"]
__all__ += ["ACTION_CODE", "chart_arrays", "resolve_playing_strategy"]
