"""Writes, by domain. Every change of a job's or a shard's state is a conditional UPDATE
(the claim protocol: simulator.models.ClaimQuerySet), so two workers handed the same
message (a redelivery after a crash) cannot both move it forward.

- submit: a job comes in (validation, quota, shards planned) and Idempotency-Keys;
- broker: task messages sent, and what Redis still holds;
- jobs: an unsplit job's run on a worker, and cancelling a job;
- shards: a split job's shards, their window, store and merge;
- indices: what an index job's shard and merge run (the engine's index generator);
- sweep: what lost its message or its worker is sent again;
- runs: what job and shard runs share (Outcome, the heartbeat thread, failure messages);
- database: an unreachable database, told apart from a fault;
- tokens: API tokens.

Callers import from the module that holds a name.
"""
