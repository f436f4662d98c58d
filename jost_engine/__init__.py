"""jost_engine: a blackjack simulator. Plain Python with a numba inner loop; no Django here."""

from jost_engine.config import Config, ConfigError, normalize_config

__version__ = "0.1.0"

__all__ = ["Config", "ConfigError", "normalize_config", "__version__"]
