"""The `auto` charts on disk (jost_engine._auto_cache): keyed by the rules and the solver,
never handed to another rule set, ignored when damaged or old, equal to the solver's."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from jost_engine import _auto_cache, _basic_strategy, _spanish
from jost_engine.config import PlayingStrategy, Rules, normalize_config


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The disk cache on (conftest turns it off for the engine tests), in an empty
    directory; the process's memory cache cleared before and after."""
    monkeypatch.setenv("JOST_AUTO_CACHE", "on")
    monkeypatch.setenv("JOST_CACHE_DIR", str(tmp_path))
    _basic_strategy._auto_for.cache_clear()
    yield tmp_path / "auto"
    _basic_strategy._auto_for.cache_clear()


@pytest.fixture
def one_deck(make_rules: Callable[..., Rules]) -> Rules:
    # One deck solves in a fraction of a second, and no shipped casino has these rules
    # (DAS with split to 4 and S17 on one deck), so the chart comes from the cache dir.
    return _basic_strategy._strategy_key(make_rules(decks=1))


def casino_rules(casino: str) -> Rules:
    """A shipped casino's rules as the solver keys them."""
    config = normalize_config(
        {"casino": casino, "num_rounds": 1, "players": [{"playing_strategy": "auto"}]}
    )
    if config.rules.spanish_game:
        return _spanish.strategy_key(config.rules)
    return _basic_strategy._strategy_key(config.rules)


def solve(rules: Rules) -> PlayingStrategy:
    return _spanish.solve(rules) if rules.spanish_game else _basic_strategy.solve(rules)


def grids(chart: PlayingStrategy) -> tuple[object, ...]:
    return (
        chart.name,
        chart.hard,
        chart.soft,
        chart.pairs,
        chart.more_cards,
        chart.rescue,
        chart.after_double,
    )


def stored_file(directory: Path, rules: Rules) -> Path:
    return directory / _auto_cache.file_name(_auto_cache.header(rules))


class TestTheCacheDirectory:
    def test_jost_cache_dir_wins(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("JOST_CACHE_DIR", "/x/jost")
        monkeypatch.setenv("NUMBA_CACHE_DIR", "/y/numba")
        assert _auto_cache.cache_dir() == Path("/x/jost/auto")

    def test_next_to_numbas_cache(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("JOST_CACHE_DIR", raising=False)
        monkeypatch.setenv("NUMBA_CACHE_DIR", "/y/numba")
        assert _auto_cache.cache_dir() == Path("/y/jost_engine/auto")

    def test_else_the_users_cache(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("JOST_CACHE_DIR", raising=False)
        monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
        monkeypatch.setenv("XDG_CACHE_HOME", "/z/cache")
        assert _auto_cache.cache_dir() == Path("/z/cache/jost_engine/auto")


class TestAChartOnDisk:
    def test_the_first_call_solves_and_writes_the_second_reads_the_same_chart(
        self, cache: Path, one_deck: Rules
    ) -> None:
        solved = _basic_strategy.solve(one_deck)
        first = _basic_strategy.auto_strategy(one_deck)
        assert stored_file(cache, one_deck).is_file()
        _basic_strategy._auto_for.cache_clear()
        read = _auto_cache.read(cache, _auto_cache.header(one_deck))
        assert read is not None
        assert grids(read) == grids(first) == grids(solved)
        assert grids(_basic_strategy.auto_strategy(one_deck)) == grids(solved)

    def test_what_the_chart_does_not_depend_on_shares_one_file(
        self, cache: Path, make_rules: Callable[..., Rules]
    ) -> None:
        a = make_rules(decks=1, name="a", penetration=0.6, blackjack_payout=1.2)
        b = make_rules(decks=1, name="b", penetration=0.9, offer_insurance=False)
        _basic_strategy.auto_strategy(a)
        _basic_strategy.auto_strategy(b)
        assert len(list(cache.glob("*.json"))) == 1

    def test_a_different_rule_set_never_gets_another_ones_chart(
        self, cache: Path, one_deck: Rules
    ) -> None:
        _basic_strategy.auto_strategy(one_deck)
        h17 = dataclasses.replace(one_deck, hit_soft_17=True)
        assert _auto_cache.read(cache, _auto_cache.header(h17)) is None
        # Even a file moved to the other rule set's name is refused: the rules are in it.
        stored_file(cache, one_deck).rename(stored_file(cache, h17))
        assert _auto_cache.read(cache, _auto_cache.header(h17)) is None
        _basic_strategy._auto_for.cache_clear()
        assert grids(_basic_strategy.auto_strategy(h17)) == grids(_basic_strategy.solve(h17))

    @pytest.mark.parametrize(
        "damage",
        [
            lambda text: text[: len(text) // 2],  # cut short
            lambda text: "not json",
            lambda text: "[]",
            lambda text: text.replace('"Dh"', '"X"', 1),  # not an action
            lambda text: text.replace('"16": {', '"15b": {', 1),  # a row missing
            lambda text: text.replace('"solver_version": 1', '"solver_version": 0'),  # older
            lambda text: text.replace('"solver_digest": "', '"solver_digest": "0', 1),
            lambda text: text.replace('"engine_version": "', '"engine_version": "0.0.', 1),
        ],
        ids=["cut", "not-json", "not-a-chart", "bad-cell", "bad-row", "old", "digest", "engine"],
    )
    def test_a_damaged_or_old_file_is_ignored_and_solved_again(
        self, cache: Path, one_deck: Rules, damage: Callable[[str], str]
    ) -> None:
        _basic_strategy.auto_strategy(one_deck)
        path = stored_file(cache, one_deck)
        damaged = damage(path.read_text())
        assert damaged != path.read_text()
        path.write_text(damaged)
        _basic_strategy._auto_for.cache_clear()
        assert _auto_cache.read(cache, _auto_cache.header(one_deck)) is None
        assert grids(_basic_strategy.auto_strategy(one_deck)) == grids(
            _basic_strategy.solve(one_deck)
        )
        # ... and the file is whole again.
        assert _auto_cache.read(cache, _auto_cache.header(one_deck)) is not None

    def test_a_new_solver_version_looks_under_another_name(
        self, cache: Path, one_deck: Rules, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        before = stored_file(cache, one_deck).name
        monkeypatch.setattr(_auto_cache, "SOLVER_VERSION", _auto_cache.SOLVER_VERSION + 1)
        assert stored_file(cache, one_deck).name != before

    def test_a_cache_that_cannot_be_written_still_gives_the_chart(
        self, tmp_path: Path, one_deck: Rules, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        blocker = tmp_path / "a file"
        blocker.write_text("")
        monkeypatch.setenv("JOST_AUTO_CACHE", "on")
        monkeypatch.setenv("JOST_CACHE_DIR", str(blocker))  # auto/ cannot be made in a file
        _basic_strategy._auto_for.cache_clear()
        try:
            chart = _basic_strategy.auto_strategy(one_deck)
        finally:
            _basic_strategy._auto_for.cache_clear()
        assert grids(chart) == grids(_basic_strategy.solve(one_deck))

    def test_no_temporary_file_is_left_behind(self, cache: Path, one_deck: Rules) -> None:
        _basic_strategy.auto_strategy(one_deck)
        assert [p.name for p in cache.iterdir()] == [stored_file(cache, one_deck).name]

    def test_off_reads_and_writes_nothing(
        self, cache: Path, one_deck: Rules, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("JOST_AUTO_CACHE", "off")
        _basic_strategy.auto_strategy(one_deck)
        assert not cache.exists()
        assert _auto_cache.lookup(one_deck) is None


class TestTheKeyFollowsTheCodeNotItsWords:
    SOURCE = (Path(_auto_cache.__file__).parent / "_finite_shoe.py").read_text()

    @pytest.mark.parametrize(
        "edit",
        [
            ('"""Composition-dependent EVs', '"""Composition dependent EVs'),  # module
            ('"""[stand, hit, double, P(dealer bj)] for', '"""The [stand, hit, double] for'),
            ("# Splits track the pair cards", "# Split hands track the pair cards"),
            ("\n\n# -- the hands' graph", "\n\n# a new comment\n\n\n# -- the hands' graph"),
            (
                "stand_only = starting_hands(rules, list(",
                "stand_only = starting_hands(\n  rules,list(",
            ),
        ],
        ids=["module-docstring", "method-docstring", "comment", "new-comment", "layout"],
    )
    def test_a_docstring_comment_or_layout_edit_keeps_the_key(self, edit: tuple[str, str]) -> None:
        assert edit[0] in self.SOURCE
        edited = self.SOURCE.replace(edit[0], edit[1], 1)
        assert _auto_cache.code_digest(edited) == _auto_cache.code_digest(self.SOURCE)

    @pytest.mark.parametrize(
        "edit",
        [
            ("TRACKED_PAIR_CARDS = 6", "TRACKED_PAIR_CARDS = 7"),
            ("if total > 11 or soft:", "if total > 12 or soft:"),
            ("return row[0]", "return row[1]"),
        ],
        ids=["constant", "condition", "return"],
    )
    def test_a_code_edit_changes_the_key(self, edit: tuple[str, str]) -> None:
        assert edit[0] in self.SOURCE
        edited = self.SOURCE.replace(edit[0], edit[1], 1)
        assert _auto_cache.code_digest(edited) != _auto_cache.code_digest(self.SOURCE)

    def test_the_key_digests_every_solver_module_by_its_code(self) -> None:
        here = Path(_auto_cache.__file__).parent
        for name in _auto_cache._SOLVER_MODULES + _auto_cache._SPANISH_MODULES:
            source = (here / name).read_text()
            assert _auto_cache.code_digest(source + "\n# a comment\n") == _auto_cache.code_digest(
                source
            )


class TestSpanishCharts:
    @pytest.fixture
    def four_decks(self, cache: Path) -> Iterator[Rules]:
        # No shipped casino has four Spanish decks: the chart comes from the cache dir.
        _spanish._auto_for.cache_clear()
        yield dataclasses.replace(casino_rules("spanish21_6d_h17"), decks=4)
        _spanish._auto_for.cache_clear()

    def test_a_spanish_chart_is_read_back_with_its_more_cards_and_rescue(self, cache, four_decks):
        solved = _spanish.auto_strategy(four_decks)
        assert solved.more_cards and solved.rescue
        read = _auto_cache.read(cache, _auto_cache.header(four_decks))
        assert read is not None and grids(read) == grids(solved)

    def test_a_spanish_chart_is_keyed_by_its_spanish_rules(self) -> None:
        h17 = casino_rules("spanish21_6d_h17")
        redouble = casino_rules("spanish21_6d_h17_redouble")
        assert _auto_cache.file_name(_auto_cache.header(h17)) != _auto_cache.file_name(
            _auto_cache.header(redouble)
        )
        # ...and by the Spanish solver's code, which a common chart's key leaves out.
        assert _auto_cache.header(h17)["solver_digest"] == _auto_cache.solver_digest(True)
        assert _auto_cache.solver_digest(True) != _auto_cache.solver_digest()

    def test_a_damaged_rescue_or_more_cards_table_is_not_read(self, cache, four_decks):
        _spanish.auto_strategy(four_decks)
        path = stored_file(cache, four_decks)
        good = path.read_text()
        for damage in (
            lambda data: data["rescue"]["16"].update({"10": "H"}),
            lambda data: data["more_cards"][0].update({"cards": [3]}),
            lambda data: data["more_cards"][1]["rows"].pop("hard 14"),
        ):
            data = json.loads(good)
            damage(data)
            path.write_text(json.dumps(data))
            assert _auto_cache.read(cache, _auto_cache.header(four_decks)) is None

    def test_a_redoubling_chart_is_read_back_with_its_after_double_table(self, cache, four_decks):
        redoubling = dataclasses.replace(four_decks, max_redoubles=2)
        solved = _spanish.auto_strategy(redoubling)
        assert solved.after_double and not solved.rescue
        read = _auto_cache.read(cache, _auto_cache.header(redoubling))
        assert read is not None and grids(read) == grids(solved)
        path = stored_file(cache, redoubling)
        good = path.read_text()
        for damage in (
            lambda data: data["after_double"]["hard 11"].update({"10": "H"}),
            lambda data: data["after_double"].pop("soft 13"),
        ):
            data = json.loads(good)
            damage(data)
            path.write_text(json.dumps(data))
            assert _auto_cache.read(cache, _auto_cache.header(redoubling)) is None


class TestTheShippedCharts:
    @pytest.mark.slow  # solves every shipped casino's chart
    def test_every_shipped_casino_has_a_current_chart_equal_to_the_solvers(self) -> None:
        # Fails after any change to a solver module until
        # `.venv/bin/python scripts/generate_auto_charts.py` writes them again.
        for casino in _auto_cache.auto_casinos():
            rules = casino_rules(casino)
            shipped = _auto_cache.read(_auto_cache.SHIPPED_DIR, _auto_cache.header(rules))
            assert shipped is not None, f"{casino}: run scripts/generate_auto_charts.py"
            assert grids(shipped) == grids(solve(rules)), casino

    def test_no_stale_file_is_shipped(self) -> None:
        heads = {
            _auto_cache.file_name(_auto_cache.header(casino_rules(c)))
            for c in _auto_cache.auto_casinos()
        }
        assert {p.name for p in _auto_cache.SHIPPED_DIR.glob("*.json")} == heads

    def test_a_shipped_file_is_valid_json_with_its_rules(self) -> None:
        for path in _auto_cache.SHIPPED_DIR.glob("*.json"):
            data = json.loads(path.read_text())
            assert data["format"] == _auto_cache.FORMAT
            assert data["rules"]["name"] == ""
