"""Split jobs in-process on the real database: a split job becomes shards, a shard runs
under exactly one claim and is stored once, the last one stored merges the job exactly
once into the result the engine gives in-process, the window bounds what is queued, a
cancel stops the shards, and the sweep puts back what a dead worker held."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

import jost_engine
from simulator.models import JobShard, JobStatus, SimulationJob
from simulator.services import broker as broker_services
from simulator.services.broker import enqueue_job
from simulator.services.jobs import cancel_job
from simulator.services.runs import Heartbeat, Outcome
from simulator.services.shards import (
    claim_shard,
    dispatch_shards,
    merge_shards,
    release_worker_shards,
    run_shard,
    store_shard,
)
from simulator.services.submit import submit_job
from simulator.services.sweep import sweep_jobs, sweep_shards

SHARD_ROUNDS = 20_000


@pytest.fixture
def split_settings(settings):
    settings.JOB_SHARD_ROUNDS = SHARD_ROUNDS
    settings.JOB_SHARD_WINDOW = 2
    settings.JOB_STALE_AFTER = 120
    return settings


@pytest.fixture
def sent() -> Any:
    """What would have gone to the broker: (task name, argument), in order."""
    with mock.patch.object(broker_services, "send_task") as send:
        yield send


def split_config(master_config: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {**master_config, "num_rounds": 70_000, "stop_when_broke": False, **extra}


def run_all(job: SimulationJob, worker: str = "w") -> list[str]:
    return [
        run_shard(pk, worker=worker).status
        for pk in JobShard.objects.filter(job=job).order_by("index").values_list("id", flat=True)
    ]


class TestSubmitSplitJob:
    def test_a_split_job_becomes_one_shard_row_per_plan_entry(
        self, alice, master_config, split_settings
    ):
        job = submit_job(alice, split_config(master_config))
        shards = list(job.shards.order_by("index").values_list("index", "rounds"))
        assert shards == [(0, 20_000), (1, 20_000), (2, 20_000), (3, 10_000)]
        assert (job.shards_total, job.shard_rounds, job.rounds_total) == (4, SHARD_ROUNDS, 70_000)

    def test_sessions_are_grouped_whole_into_shards(self, alice, master_config, split_settings):
        job = submit_job(alice, {**master_config, "num_rounds": 6_000, "sessions": 10, "seed": 5})
        rows = list(job.shards.order_by("index").values_list("first_session", "sessions"))
        assert rows == [(0, 3), (3, 3), (6, 3), (9, 1)]
        assert job.rounds_total == 60_000

    def test_jost_semantics_stay_one_unsplit_job(self, alice, master_config, split_settings):
        job = submit_job(alice, master_config)
        assert job.shards_total == 0 and not job.shards.exists()

    def test_an_unsplit_job_too_long_for_the_time_limit_is_refused_saying_what_fits(
        self, alice, master_config, settings
    ):
        settings.CELERY_TASK_SOFT_TIME_LIMIT = 100
        settings.ENGINE_SPOT_ROUNDS_PER_SECOND = 1_000_000
        with pytest.raises(jost_engine.ConfigError) as caught:
            submit_job(alice, {**master_config, "num_rounds": 500_000_000})
        [(path, reason)] = caught.value.problems
        assert path == "num_rounds" and "at most 80000000 rounds fit" in reason
        assert "stop_when_broke" in reason and "sessions" in reason
        # The same rounds split over the workers are accepted.
        submit_job(alice, split_config(master_config, num_rounds=500_000_000))


class TestShardRun:
    def test_the_merged_result_is_the_engines_in_process_run_over_the_same_shards(
        self, alice, master_config, split_settings, sent
    ):
        job = submit_job(alice, split_config(master_config))
        # Out of order, as workers finish them.
        ids = list(job.shards.order_by("-index").values_list("id", flat=True))
        outcomes = [run_shard(pk, worker="w").status for pk in ids]
        assert outcomes == ["STORED", "STORED", "STORED", JobStatus.COMPLETE]
        job.refresh_from_db()
        assert job.status == JobStatus.COMPLETE and job.rounds_done == 70_000
        expected = jost_engine.run_simulation_from_config(
            job.resolved_config, seed=job.seed, shard_rounds=SHARD_ROUNDS
        )
        for got, want in zip(job.result_data["players"], expected["players"], strict=True):
            assert got["net_gain_loss"] == want["net_gain_loss"]
            assert got["counts"] == want["counts"]
            assert got["sd_per_round"] == want["sd_per_round"]
        assert job.result_data["shards"] == 4 and job.result_data["rounds_played"] == 70_000

    def test_a_shard_delivered_twice_runs_and_counts_once(
        self, alice, master_config, split_settings, sent
    ):
        job = submit_job(alice, split_config(master_config))
        first = job.shards.get(index=0)
        assert run_shard(first.id, worker="w1").status == "STORED"
        assert run_shard(first.id, worker="w2").status == Outcome.SKIPPED
        first.refresh_from_db()
        assert first.attempts == 1 and first.claimed_by == "w1"
        run_all(job)
        job.refresh_from_db()
        assert job.status == JobStatus.COMPLETE and job.rounds_done == 70_000
        assert job.result_data["rounds_played"] == 70_000

    def test_a_shard_reclaimed_after_its_heartbeat_went_stale_is_stored_by_the_new_claim(
        self, alice, master_config, split_settings, sent
    ):
        job = submit_job(alice, split_config(master_config))
        shard = job.shards.get(index=0)
        old = claim_shard(shard.id, "dead")
        JobShard.objects.filter(id=shard.id).update(
            heartbeat_at=timezone.now() - timedelta(seconds=121)
        )
        new = claim_shard(shard.id, "alive")
        assert new is not None and new != old
        stats = jost_engine.Stats.from_dict(
            jost_engine.run_shard_spec(
                jost_engine.normalize_config(job.resolved_config),
                job.seed,
                jost_engine.ShardSpec(0, 20_000),
            ).to_dict()
        )
        # The worker taken for dead comes back: its store matches nothing.
        assert store_shard(shard.id, old, stats) is False
        assert store_shard(shard.id, new, stats) is True
        assert store_shard(shard.id, new, stats) is False
        job.refresh_from_db()
        assert job.rounds_done == 20_000

    def test_a_failing_engine_fails_the_job_with_a_message_and_stops_its_shards(
        self, alice, master_config, split_settings, sent
    ):
        job = submit_job(alice, split_config(master_config))
        shard = job.shards.get(index=1)
        with mock.patch.object(jost_engine, "run_shard_spec", side_effect=RuntimeError("boom")):
            assert run_shard(shard.id, worker="w").status == JobStatus.FAILED
        job.refresh_from_db()
        assert job.status == JobStatus.FAILED and "RuntimeError: boom" in job.error
        assert set(job.shards.values_list("status", flat=True)) == {JobStatus.CANCELLED}


class TestMergeOnce:
    def test_two_workers_storing_the_last_shards_at_once_merge_exactly_once(
        self, alice, master_config, split_settings, sent
    ):
        job = submit_job(alice, split_config(master_config))
        for pk in job.shards.filter(index__lt=3).values_list("id", flat=True):
            run_shard(pk, worker="w")
        last = job.shards.get(index=3)
        claim = claim_shard(last.id, "w")
        config = jost_engine.normalize_config(job.resolved_config)
        stats = jost_engine.run_shard_spec(config, job.seed, jost_engine.ShardSpec(3, 10_000))
        assert store_shard(last.id, claim, stats)
        with mock.patch.object(jost_engine, "results", wraps=jost_engine.results) as results:
            assert merge_shards(job.id) is True
            assert merge_shards(job.id) is False
        assert results.call_count == 1

    def test_concurrent_merges_from_threads_have_one_winner(
        self, transactional_db, alice, master_config, split_settings, sent
    ):
        job = submit_job(alice, split_config(master_config))
        run_all(job)  # the last one merged already
        SimulationJob.objects.filter(id=job.id).update(
            status=JobStatus.RUNNING, merge_started_at=None, result_data=None
        )
        wins: list[bool] = []
        barrier = threading.Barrier(4)

        def merge() -> None:
            barrier.wait()
            try:
                wins.append(merge_shards(job.id))
            finally:
                connection.close()

        threads = [threading.Thread(target=merge) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(wins) == [False, False, False, True]
        assert SimulationJob.objects.get(id=job.id).status == JobStatus.COMPLETE

    def test_concurrent_claims_of_one_shard_have_one_winner(
        self, transactional_db, alice, master_config, split_settings, sent
    ):
        job = submit_job(alice, split_config(master_config))
        shard = job.shards.get(index=0)
        tokens: list[object] = []
        barrier = threading.Barrier(6)

        def claim(n: int) -> None:
            barrier.wait()
            try:
                tokens.append(claim_shard(shard.id, f"w{n}"))
            finally:
                connection.close()

        threads = [threading.Thread(target=claim, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(t is not None for t in tokens) == 1
        assert JobShard.objects.get(id=shard.id).attempts == 1


class TestWindow:
    def test_only_the_window_is_queued_and_the_next_goes_as_one_starts(
        self, alice, master_config, split_settings, sent
    ):
        job = submit_job(alice, split_config(master_config))
        assert dispatch_shards(job.id) == [0, 1]
        assert dispatch_shards(job.id) == []
        assert [c.args[0] for c in sent.call_args_list] == ["simulator.run_job_shard"] * 2
        first = job.shards.get(index=0)
        claim_shard(first.id, "w")
        assert dispatch_shards(job.id) == [2]

    def test_a_send_the_broker_refused_is_retried_by_the_next_sweep(
        self, alice, master_config, split_settings, sent
    ):
        job = submit_job(alice, split_config(master_config))
        sent.side_effect = ConnectionError("broker down")
        assert dispatch_shards(job.id) == []
        job.refresh_from_db()
        assert job.send_failed is True
        assert not job.shards.filter(enqueued_at__isnull=False).exists()
        sent.side_effect = None
        assert sweep_shards()["shards_sent"] == 2
        job.refresh_from_db()
        assert job.send_failed is False


class TestCancelSplitJob:
    def test_cancel_stops_the_shards_and_none_is_stored_after_it(
        self, alice, master_config, split_settings, sent
    ):
        job = submit_job(alice, split_config(master_config))
        running = job.shards.get(index=0)
        claim = claim_shard(running.id, "w")
        run_shard(job.shards.get(index=1).id, worker="w")
        cancel_job(alice, job.id)
        config = jost_engine.normalize_config(job.resolved_config)
        stats = jost_engine.run_shard_spec(config, job.seed, jost_engine.ShardSpec(0, 20_000))
        assert store_shard(running.id, claim, stats) is False
        assert run_shard(job.shards.get(index=2).id, worker="w").status == "SKIPPED"
        job.refresh_from_db()
        assert job.status == JobStatus.CANCELLED and job.rounds_done == 20_000
        assert list(
            job.shards.filter(status=JobStatus.COMPLETE).values_list("index", flat=True)
        ) == [1]


class TestSweepShards:
    def test_a_stale_shard_is_put_back_first_in_its_queue(
        self, alice, master_config, split_settings, sent
    ):
        job = submit_job(alice, split_config(master_config))
        shard = job.shards.get(index=0)
        claim_shard(shard.id, "dead")
        JobShard.objects.filter(id=shard.id).update(
            heartbeat_at=timezone.now() - timedelta(seconds=121)
        )
        counts = sweep_shards()
        assert counts["shards_requeued"] == 1
        shard.refresh_from_db()
        assert shard.status == JobStatus.PENDING and shard.enqueued_at is not None

    def test_the_sweep_command_puts_back_a_stale_shard_as_beat_does(
        self, alice, master_config, split_settings, sent, capsys
    ):
        # With no beat running, `manage.py sweep_jobs` is the operator's sweep: it must
        # recover split jobs too, not only unsplit ones.
        from django.core.management import call_command

        job = submit_job(alice, split_config(master_config))
        shard = job.shards.get(index=0)
        claim_shard(shard.id, "dead")
        JobShard.objects.filter(id=shard.id).update(
            heartbeat_at=timezone.now() - timedelta(seconds=121)
        )
        call_command("sweep_jobs")
        shard.refresh_from_db()
        assert shard.status == JobStatus.PENDING and shard.enqueued_at is not None
        assert "shards_requeued 1" in capsys.readouterr().out

    def test_a_shard_whose_worker_died_too_often_fails_its_job(
        self, alice, master_config, split_settings, sent
    ):
        split_settings.JOB_MAX_ATTEMPTS = 2
        job = submit_job(alice, split_config(master_config))
        shard = job.shards.get(index=0)
        JobShard.objects.filter(id=shard.id).update(
            status=JobStatus.RUNNING, attempts=2, heartbeat_at=timezone.now() - timedelta(hours=1)
        )
        assert sweep_shards()["split_failed"] == 1
        job.refresh_from_db()
        assert job.status == JobStatus.FAILED and "stopped 2 times" in job.error

    def test_a_worker_that_is_stopping_puts_its_shards_back_at_once(
        self, alice, master_config, split_settings, sent
    ):
        job = submit_job(alice, split_config(master_config))
        mine = job.shards.get(index=0)
        other = job.shards.get(index=1)
        claim_shard(mine.id, "celery@a:100:101")
        claim_shard(other.id, "celery@a:200:201")
        assert release_worker_shards("celery@a:100:") == 1
        assert JobShard.objects.get(id=mine.id).status == JobStatus.PENDING
        assert JobShard.objects.get(id=other.id).status == JobStatus.RUNNING

    def test_a_pending_job_whose_send_failed_is_sent_at_the_next_sweep(
        self, alice, master_config, settings
    ):
        settings.JOB_REQUEUE_AFTER = 300
        job = submit_job(alice, master_config)
        with mock.patch.object(broker_services, "send_task", side_effect=OSError):
            assert enqueue_job(job.id) is False
        assert SimulationJob.objects.get(id=job.id).send_failed is True
        with mock.patch.object(broker_services, "send_task") as send:
            sent = sweep_jobs()
        assert sent["pending"] == [job.id]
        send.assert_called_once_with("simulator.run_simulation_job", str(job.id), queue="celery")
        job.refresh_from_db()
        assert job.send_failed is False and job.enqueued_at is not None


class TestLostShardMessages:
    def test_a_sent_shard_whose_message_redis_lost_is_sent_again_at_once(
        self, alice, master_config, split_settings, redis_url
    ):
        import redis

        url = redis_url.rsplit("/", 1)[0] + "/4"  # a database of the private Redis
        split_settings.CELERY_BROKER_URL = url
        split_settings.JOB_LOST_MESSAGE_GRACE = 5
        client = redis.Redis.from_url(url)
        client.flushdb()
        job = submit_job(alice, split_config(master_config))
        assert dispatch_shards(job.id) == [0, 1]
        # Sent 10 s ago, past the grace: while their messages wait in Redis, nothing moves.
        job.shards.filter(enqueued_at__isnull=False).update(
            enqueued_at=timezone.now() - timedelta(seconds=10)
        )
        assert sweep_shards()["shards_resent"] == 0
        assert client.llen("celery") == 2
        client.flushdb()  # a Redis restarted without persistence
        counts = sweep_shards()
        # Sent again at once, not after JOB_SHARD_REQUEUE_AFTER (60 s).
        assert counts["shards_resent"] == 2 and counts["shards_sent"] == 2
        assert client.llen("celery") == 2
        client.flushdb()


class TestHeartbeat:
    def test_the_heartbeat_goes_on_while_the_engine_plays_one_long_chunk(self):
        # One kernel call of several seconds (a chunk with no progress report between):
        # the loops release the GIL, so the thread beats on time all along, and a long
        # chunk or a compile can never make a live task look dead.
        beats: list[float] = []
        config = jost_engine.normalize_config(
            {
                "casino": "master_casino",
                "num_rounds": 20_000_000,
                "stop_when_broke": False,
                "players": [{"profile": "master_player"}],
            }
        )
        jost_engine.run_shard_spec(config, 1, jost_engine.ShardSpec(0, 10_000))  # compiled
        with Heartbeat(lambda: beats.append(time.monotonic()), 0.1):
            start = time.monotonic()
            jost_engine.run_shard_spec(
                config, 1, jost_engine.ShardSpec(0, 20_000_000), chunk=20_000_000
            )
            seconds = time.monotonic() - start
        gaps = [b - a for a, b in itertools.pairwise(beats)]
        # A loop that held the GIL would leave one gap as long as the whole call. The
        # bounds allow for a loaded machine, where a woken thread waits for a core (a
        # 0.5 s ceiling on the gap failed at a load of 9 on two cores).
        assert seconds > 0.5, seconds
        assert len(beats) >= seconds / 0.5, (seconds, len(beats))
        assert max(gaps) < max(0.5, seconds / 4), (seconds, gaps)


class TestStoredByAnotherRelease:
    """A deploy with a split job in flight: some of its shards were stored by a worker of
    the previous release (release-16 stored its statistics without a format version) or
    of a release whose format this engine does not read."""

    def undisturbed(self, alice, master_config, without_timing) -> dict[str, Any]:
        job = submit_job(alice, split_config(master_config, seed=3))
        run_all(job)
        job.refresh_from_db()
        return without_timing(job.result_data)

    def test_unversioned_stats_of_release_16_are_merged_as_they_are(
        self, alice, master_config, split_settings, sent, without_timing, caplog
    ):
        job = submit_job(alice, split_config(master_config, seed=3))
        run_all(job)
        job.refresh_from_db()
        # The same job again, two of its shards stored as release-16 stored them.
        again = submit_job(alice, split_config(master_config, seed=3))
        first = list(again.shards.order_by("index").values_list("id", flat=True))
        for pk in first[:2]:
            run_shard(pk, worker="old")
        for shard in again.shards.filter(status=JobStatus.COMPLETE):
            shard.stats.pop("format")
            shard.save(update_fields=["stats"])
        assert [run_shard(pk, worker="w").status for pk in first[2:]][-1] == JobStatus.COMPLETE
        again.refresh_from_db()
        assert again.status == JobStatus.COMPLETE, again.error
        assert without_timing(again.result_data) == without_timing(job.result_data)
        assert "notes" not in again.result_data and again.notes is None
        assert set(again.shards.values_list("attempts", flat=True)) == {1}

    @pytest.mark.parametrize(
        ("stored", "reason"),
        [
            # A later release's layout (a rollback), or an unversioned one of an engine
            # older than release-16's (before flat_edge: fewer sums).
            (lambda stats: {"format": 99}, "format 99"),
            (
                lambda stats: {
                    **{k: v for k, v in stats.items() if k != "format"},
                    "sums": [row[:7] for row in stats["sums"]],
                },
                "sums of shape",
            ),
        ],
        ids=["a-later-format", "unversioned-older-layout"],
    )
    def test_stats_it_does_not_read_are_dealt_again_and_the_job_says_so(
        self, alice, master_config, split_settings, sent, without_timing, caplog, stored, reason
    ):
        expected = self.undisturbed(alice, master_config, without_timing)
        job = submit_job(alice, split_config(master_config, seed=3))
        ids = list(job.shards.order_by("index").values_list("id", flat=True))
        for pk in ids[:3]:
            run_shard(pk, worker="other-release")
        # As a worker of a release with another layout would have stored them.
        for shard in JobShard.objects.filter(job=job, index__in=[0, 2]):
            shard.stats = stored(shard.stats)
            shard.save(update_fields=["stats"])
        with caplog.at_level("WARNING", logger="simulator.services.shards"):
            assert run_shard(ids[3], worker="w").status == "STORED"  # the merge re-deals
        assert "2 shard(s) stored in a format this engine does not read" in caplog.text
        job.refresh_from_db()
        assert job.status == JobStatus.RUNNING and job.rounds_done == 30_000
        assert list(
            job.shards.filter(status=JobStatus.PENDING).values_list("index", flat=True)
        ) == [0, 2]
        assert [run_shard(pk, worker="w").status for pk in (ids[0], ids[2])] == [
            "STORED",
            JobStatus.COMPLETE,
        ]
        job.refresh_from_db()
        assert job.status == JobStatus.COMPLETE, job.error
        [note] = job.result_data.pop("notes")
        assert note.startswith("Shards 0, 2 stored statistics in a format") and reason in note
        assert job.notes == [note]
        assert without_timing(job.result_data) == expected
        assert job.rounds_done == job.rounds_total == 70_000
