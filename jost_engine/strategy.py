"""Resolve a playing strategy: a chart as it is, or `auto` computed for the rules.

`resolve_playing_strategy` is the one entry point the simulator needs; the chart arrays
and action codes it hands on live in jost_engine.chart.
"""

from __future__ import annotations

from jost_engine.config import PlayingStrategy, Rules


def resolve_playing_strategy(playing: PlayingStrategy, rules: Rules) -> PlayingStrategy:
    """The chart to play: `playing` itself, or for `auto` the basic strategy for `rules`.

    `auto` is total-dependent basic strategy computed for the exact rules and deck count
    (rules.decks = 0: infinite deck), with every cell's fallback written out; the method
    and its approximations are in jost_engine._basic_strategy. It is cached per rule set (name,
    penetration, insurance and payout aside), in the process and on disk
    (jost_engine._auto_cache; the shipped casinos' charts ship solved): a solve, under a
    tenth of a second for a finite shoe in a warm process (docs/BENCHMARKS.md, "auto"),
    happens once per rule set and machine. Spanish 21 rules are solved by
    jost_engine._spanish (hands of three or more cards by number of cards: `more_cards`,
    and `rescue` where the casino offers it, or with redoubling `after_double`).
    """
    if not playing.auto:
        return playing
    if rules.spanish_game:
        from jost_engine import _spanish

        return _spanish.auto_strategy(rules)
    from jost_engine._basic_strategy import auto_strategy  # heavy; only loaded when asked

    return auto_strategy(rules)
