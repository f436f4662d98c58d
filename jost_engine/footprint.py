"""What a job costs before it runs: its work in spot-rounds and its peak memory.

A service asks this at submit time, to refuse a job that could not finish within its time
limit or whose shard (or the merge of its shards) could not fit the memory it allows a
worker, rather than let a worker run for an hour or be killed for memory. Everything here
is arithmetic on the normalised config; nothing is played.

The memory figures are what the job adds to a worker that has already loaded the engine
(Python, numpy and the compiled loops, about 150 MB, are the worker's, not the job's).
They were measured with tracemalloc on the paths a shard and a merge take (the arrays
played, the statistics turned to JSON, stored shards read back and merged) and are
rounded up: an estimate for a limit, not an accounting.
"""

from __future__ import annotations

from dataclasses import dataclass

from jost_engine import kernel as k
from jost_engine.config import Config
from jost_engine.deviations import expand, max_plays_per_cell
from jost_engine.simulate import SHARD_ROUNDS, plan_shards
from jost_engine.stats import HAND_LOG_CAP

# A session's final bankroll, per player, as a shard keeps it (float64), turns it into a
# JSON list and writes it out: measured 98 bytes.
SHARD_BYTES_PER_FINAL = 100
# The same number when the shards are merged: every stored shard read back (its JSON
# decoded into Python floats), made arrays, concatenated and sorted for the percentiles:
# measured 51 to 58 bytes in the engine, rounded up for the copies a service's database
# layer keeps while it reads the rows.
MERGE_BYTES_PER_FINAL = 80
# A logged hand: the kernel's row, the dict the results document holds and its JSON text
# (measured about 1 KB).
BYTES_PER_LOGGED_HAND = 1500
# Everything else a shard holds (shoe, action tables, ramps, counters): well under this.
BASE_BYTES = 2 * 2**20


@dataclass(frozen=True)
class Footprint:
    """A job's cost, from `footprint(config)`.

    spots: the most spots one round can deal, over every player (a spots_ramp at its
    widest). sequence_rounds: the rounds one task must play in order: the whole job
    unsplit, one session with `sessions`, one shard (shard_rounds) with stop_when_broke
    false. shard_bytes: peak memory of the largest shard; merge_bytes: of merging the
    shards (0 for an unsplit job). parts: shard_bytes split by the config field that
    asks for it (JSON path -> bytes), so a refusal can name the field to change.
    bytes_per_session: what one more session adds to the merge (0 without sessions).
    """

    spots: int
    total_rounds: int
    sequence_rounds: int
    shard_bytes: int
    merge_bytes: int
    parts: dict[str, int]
    bytes_per_session: int

    @property
    def spot_rounds(self) -> int:
        """The job's work: every round it asks for, at its most spots."""
        return self.total_rounds * self.spots

    @property
    def sequence_spot_rounds(self) -> int:
        """The work of the longest stretch one task plays in order."""
        return self.sequence_rounds * self.spots

    @property
    def memory_bytes(self) -> int:
        """The most memory any one step of the job needs: a shard, or the merge."""
        return max(self.shard_bytes, self.merge_bytes)

    @property
    def memory_field(self) -> str:
        """The JSON path of the field that asks for the most memory."""
        if self.merge_bytes >= self.shard_bytes:
            # Sessions' final bankrolls, or else the statistics of very many shards.
            return "sessions" if self.bytes_per_session else "num_rounds"
        return max(self.parts, key=lambda path: self.parts[path])

    def sessions_within(self, limit_bytes: int) -> int:
        """The most sessions whose merge fits in limit_bytes, the rest of the config
        unchanged (0 when the job has no sessions, or its shard does not fit anyway)."""
        if self.bytes_per_session == 0 or self.shard_bytes > limit_bytes:
            return 0
        return max(0, (limit_bytes - BASE_BYTES) // self.bytes_per_session)


def footprint(config: Config, shard_rounds: int = SHARD_ROUNDS) -> Footprint:
    """The work and peak memory of `config` run in shards of `shard_rounds` (the cut a
    service makes with its JOB_SHARD_ROUNDS; plan_shards)."""
    players = config.players
    n = len(players)
    spots = sum(p.betting.max_spots for p in players)
    specs = plan_shards(config, shard_rounds)
    if config.sessions is not None:
        sequence = config.num_rounds  # a session is never split
    else:
        sequence = max(spec.rounds for spec in specs)

    parts: dict[str, int] = {"(config)": BASE_BYTES}
    if config.log_hands:
        parts["log_hands"] = HAND_LOG_CAP * BYTES_PER_LOGGED_HAND
    for i, p in enumerate(players):
        slots = max_plays_per_cell(expand(p.playing.deviations, config.rules))
        if slots:
            cells = 3 * 22 * 11
            # thresholds (8 bytes) and flags (1) per slot, and the two action tables (one
            # byte per context, slot and fallback); twice that while they are built.
            table = cells * slots * 9 + 2 * 3 * cells * (slots + 1)
            parts[f"players[{i}].playing_strategy.deviations"] = 2 * table
    per_session = 0
    merge = 0
    if config.sessions is not None:
        in_shard = max(spec.sessions for spec in specs)
        parts["sessions"] = in_shard * n * SHARD_BYTES_PER_FINAL
        per_session = n * MERGE_BYTES_PER_FINAL
        merge = BASE_BYTES + config.sessions * per_session
    elif len(specs) > 1:
        # Merging sums: the counters and the true-count table of every shard.
        merge = len(specs) * n * (k.N_COUNTERS + k.N_SUMS + k.N_TC * k.N_TC_FIELDS) * 40
    return Footprint(
        spots=spots,
        total_rounds=config.total_rounds,
        sequence_rounds=sequence,
        shard_bytes=sum(parts.values()),
        merge_bytes=merge,
        parts=parts,
        bytes_per_session=per_session,
    )
