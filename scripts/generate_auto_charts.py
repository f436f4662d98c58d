"""Write the `auto` chart of every shipped casino into jost_engine/data/auto_charts/.

    .venv/bin/python scripts/generate_auto_charts.py

Each chart is solved here by the engine's own solver (jost_engine._basic_strategy.solve;
jost_engine._spanish.solve for the Spanish 21 casinos),
never copied from a published chart, and stored under the key jost_engine._auto_cache
reads: so a fresh install plays "auto" at a shipped casino without solving it. Run it
after any change to a solver module (tests/engine/test_auto_cache.py fails until then:
a chart written by an older solver is never read). Files of earlier keys are removed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from jost_engine import _auto_cache, _basic_strategy, _spanish
from jost_engine.config import normalize_config


def main() -> int:
    out = _auto_cache.SHIPPED_DIR
    out.mkdir(parents=True, exist_ok=True)
    written: set[str] = set()
    for casino in _auto_cache.auto_casinos():
        config = normalize_config(
            {"casino": casino, "num_rounds": 1, "players": [{"playing_strategy": "auto"}]}
        )
        spanish = config.rules.spanish_game
        key = _spanish.strategy_key if spanish else _basic_strategy._strategy_key
        rules = key(config.rules)
        head = _auto_cache.header(rules)
        name = _auto_cache.file_name(head)
        if name in written:
            print(f"{casino}: same chart as an earlier casino")
            continue
        start = time.perf_counter()
        chart = _spanish.solve(rules) if spanish else _basic_strategy.solve(rules)
        _auto_cache.write(out, head, chart)
        written.add(name)
        print(f"{casino}: {name} ({time.perf_counter() - start:.1f} s)")
    for stale in out.glob("*.json"):
        if stale.name not in written:
            stale.unlink()
            print(f"removed {stale.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
