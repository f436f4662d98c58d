"""The client cannot fall behind the API: every operation in the live /api/schema/ has a
method that claims it (jost_client.operation), and every method claims one that exists."""

from __future__ import annotations

import json
import urllib.request

from jost_client import JostClient


def _live_operations(web: str) -> set[str]:
    with urllib.request.urlopen(f"{web}/api/schema/?format=json", timeout=30) as answer:
        schema = json.loads(answer.read())
    methods = {"get", "post", "put", "patch", "delete"}
    return {
        op["operationId"]
        for path in schema["paths"].values()
        for method, op in path.items()
        if method in methods
    }


def test_every_operation_in_the_schema_has_a_client_method(web):
    live = _live_operations(web)
    claimed = JostClient(web).operations()
    missing = sorted(live - set(claimed))
    assert not missing, f"operations with no jost_client method: {', '.join(missing)}"
    stale = sorted(set(claimed) - live)
    assert not stale, f"jost_client methods for operations the API no longer has: {stale}"
    assert len(live) >= 21
