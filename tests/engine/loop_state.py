"""What two round loops (or two ways of calling one) must leave alike: every array of the
bundles a loop mutates, an array added to a bundle included."""

from __future__ import annotations

import numpy as np

from jost_engine.simulate import Session

LOOP_STATE = ("shoe", "seats", "tallies")


def assert_same_state(a: Session, b: Session) -> None:
    for bundle in LOOP_STATE:
        mine, theirs = getattr(a, bundle), getattr(b, bundle)
        for field, x, y in zip(mine._fields, mine, theirs, strict=True):
            assert np.array_equal(x, y), f"{bundle}.{field}"
