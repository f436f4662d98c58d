"""A child process that runs configs for tests/engine/test_config_properties.py.

One JSON request a line on stdin, `{"config": <raw config>}`; one JSON answer a line on
stdout: `{"refused": [[path, reason], ...]}` when normalize_config refuses it,
`{"doc": <results document>}` when it ran, `{"error": "<type>: <message>"}` when the
engine raised anything else. The document is written with NaN and infinity allowed, so
that the parent, which reads it strictly, sees them rather than this process refusing
to write them. A crash in native code (the kernel indexing out of bounds) ends this
process: the parent sees its exit status instead of an answer, and pytest lives on.

Run as a separate process so that the numba cache is loaded once for many examples.
"""

from __future__ import annotations

import json
import sys

from jost_engine import ConfigError, normalize_config, run_simulation_from_config


def answer(line: str) -> dict[str, object]:
    request = json.loads(line)
    try:
        config = normalize_config(request["config"])
    except ConfigError as exc:
        return {"refused": exc.problems}
    try:
        return {"doc": run_simulation_from_config(config)}
    except Exception as exc:  # every failure is the parent's to report
        return {"error": f"{type(exc).__name__}: {exc}"}


def main() -> None:
    for line in sys.stdin:
        sys.stdout.write(json.dumps(answer(line)) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
