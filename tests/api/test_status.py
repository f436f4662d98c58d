"""GET /api/status/<job_id>/: {"job_id", "status"} plus progress, for the owner only."""

import uuid

import pytest
from django.conf import settings

from simulator.models import JobStatus, SimulationJob


class TestJobStatus:
    def test_alice_sees_her_pending_job(self, alice_client, alice_job):
        response = alice_client.get(f"/api/status/{alice_job.id}/")
        assert response.status_code == 200
        body = response.json()
        assert body["job_id"] == str(alice_job.id)
        assert body["status"] == "PENDING"
        assert body["progress"]["rounds_done"] == 0
        assert body["progress"]["rounds_total"] == alice_job.rounds_total

    def test_progress_shows_while_running(self, alice_client, alice_job):
        SimulationJob.objects.filter(id=alice_job.id).update(
            status=JobStatus.RUNNING, rounds_done=alice_job.rounds_total // 2
        )
        body = alice_client.get(f"/api/status/{alice_job.id}/").json()
        assert body["status"] == "RUNNING"
        assert body["progress"]["fraction"] == 0.5

    def test_a_failed_job_says_why(self, alice_client, alice_job):
        SimulationJob.objects.filter(id=alice_job.id).update(
            status=JobStatus.FAILED, error="num_rounds: expected a whole number"
        )
        body = alice_client.get(f"/api/status/{alice_job.id}/").json()
        assert body["status"] == "FAILED"
        assert "num_rounds" in body["error"]

    def test_charlie_gets_404_for_alices_job(self, charlie_client, alice_job):
        assert charlie_client.get(f"/api/status/{alice_job.id}/").status_code == 404

    def test_bob_gets_404_for_alices_job_too(self, bob_client, alice_job):
        assert bob_client.get(f"/api/status/{alice_job.id}/").status_code == 404

    def test_an_unknown_job_is_404(self, alice_client):
        assert alice_client.get(f"/api/status/{uuid.uuid4()}/").status_code == 404

    def test_without_a_token_it_gets_401(self, anon_client, alice_job):
        assert anon_client.get(f"/api/status/{alice_job.id}/").status_code == 401

    def test_a_token_request_reads_the_token_user_and_job_in_one_query(
        self, alice_client, alice_job, django_assert_num_queries
    ):
        # Clients poll this endpoint: the token, its user and the job come in one query.
        with django_assert_num_queries(1):
            response = alice_client.get(f"/api/status/{alice_job.id}/")
        assert response.status_code == 200
        assert response.json()["job_id"] == str(alice_job.id)

    def test_the_one_query_path_still_gives_charlie_nothing(
        self, charlie_client, alice_job, django_assert_num_queries
    ):
        with django_assert_num_queries(1):
            response = charlie_client.get(f"/api/status/{alice_job.id}/")
        assert response.status_code == 404
        assert str(alice_job.id) not in response.content.decode()

    def test_a_wrong_token_is_401(self, alice_job):
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
        assert client.get(f"/api/status/{alice_job.id}/").status_code == 401

    def test_an_inactive_users_token_is_401(self, alice, alice_client, alice_job):
        alice.is_active = False
        alice.save(update_fields=["is_active"])
        assert alice_client.get(f"/api/status/{alice_job.id}/").status_code == 401

    def test_a_logged_in_session_reads_it_too(self, client, alice, alice_job):
        # The dashboard polls with its session, not a token.
        client.force_login(alice)
        response = client.get(f"/api/status/{alice_job.id}/")
        assert response.status_code == 200
        assert response.json()["status"] == "PENDING"

    def test_it_serves_the_same_body_as_the_job_read_by_the_orm(self, alice_client, alice_job):
        from simulator.api.serializers import JobStatusSerializer

        SimulationJob.objects.filter(id=alice_job.id).update(
            status=JobStatus.RUNNING, rounds_done=7, error=""
        )
        expected = JobStatusSerializer(SimulationJob.objects.get(id=alice_job.id)).data
        assert alice_client.get(f"/api/status/{alice_job.id}/").json() == expected


def _prepared_statements() -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def _the_status_query(statements: list[str]) -> list[str]:
    return [s for s in statements if "authtoken_token" in s and "simulator_simulationjob" in s]


on_postgresql = pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "service.postgresql",
    reason="prepared statements are PostgreSQL's (scripts/test.sh runs the suite on it)",
)


class TestTheStatusQuery:
    """The token, its user and the job in one query on a cursor of its own
    (selectors.token_user_and_job), prepared on PostgreSQL (simulator/db.py)."""

    def test_it_reads_the_user_as_the_orm_does(self, alice, alice_job):
        from django.contrib.auth.models import User
        from rest_framework.authtoken.models import Token

        from simulator import selectors

        alice.last_login = alice.date_joined
        alice.save(update_fields=["last_login"])
        token, _ = Token.objects.get_or_create(user=alice)
        user, job = selectors.token_user_and_job(token.key, alice_job.id)
        expected = User.objects.get(id=alice.id)
        assert user is not None and job is not None
        for field in User._meta.concrete_fields:
            got, want = getattr(user, field.attname), getattr(expected, field.attname)
            assert (got, type(got)) == (want, type(want)), field.name
        assert user._state.adding is False and user._state.db == "default"
        assert job.id == alice_job.id and job.owner_id == alice.id and job.owner is user
        # Only the status columns were read: the rest would be loaded if asked for, never
        # made up.
        assert {"request_data", "resolved_config", "result_data"} <= job.get_deferred_fields()
        assert job.request_data == alice_job.request_data

    @pytest.mark.postgres
    @on_postgresql
    def test_the_poll_runs_a_prepared_statement(self, alice_client, alice_job):
        assert _the_status_query(_prepared_statements()) == []
        for _ in range(3):
            assert alice_client.get(f"/api/status/{alice_job.id}/").status_code == 200
        # Prepared once, reused by the later polls.
        assert len(_the_status_query(_prepared_statements())) == 1

    @pytest.mark.postgres
    @on_postgresql
    def test_with_prepared_statements_off_it_prepares_nothing(
        self, alice_client, alice_job, settings
    ):
        settings.DB_PREPARED_STATEMENTS = False
        response = alice_client.get(f"/api/status/{alice_job.id}/")
        assert response.status_code == 200
        assert response.json()["job_id"] == str(alice_job.id)
        assert _the_status_query(_prepared_statements()) == []

    @pytest.mark.postgres
    @on_postgresql
    def test_a_rolled_back_transaction_leaves_the_poll_working(self, alice_client, alice_job):
        from django.db import transaction

        assert alice_client.get(f"/api/status/{alice_job.id}/").status_code == 200
        # psycopg forgets (and deallocates) its prepared statements on a rollback.
        with pytest.raises(RuntimeError), transaction.atomic():
            SimulationJob.objects.filter(id=alice_job.id).update(rounds_done=1)
            raise RuntimeError
        body = alice_client.get(f"/api/status/{alice_job.id}/").json()
        assert body["progress"]["rounds_done"] == 0
        assert len(_the_status_query(_prepared_statements())) == 1


@pytest.mark.postgres
@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_column_changed_under_the_prepared_query_is_prepared_again(alice_client, alice_job):
    """A migration run by another process changes the type of a column the prepared
    statement returns: PostgreSQL then refuses the old plan ("cached plan must not change
    result type") on every call; the poll prepares it again instead of failing."""
    import psycopg
    from django.db import connection

    params = connection.get_connection_params()
    other = psycopg.connect(
        dbname=params["dbname"],
        user=params.get("user"),
        host=params.get("host"),
        port=params.get("port"),
        password=params.get("password"),
        autocommit=True,
    )
    table = SimulationJob._meta.db_table
    url = f"/api/status/{alice_job.id}/"
    assert alice_client.get(url).status_code == 200  # prepared on this connection
    try:
        other.execute(f'ALTER TABLE "{table}" ALTER COLUMN "error" TYPE varchar(4000)')
        for _ in range(3):
            response = alice_client.get(url)
            assert response.status_code == 200
            assert response.json()["job_id"] == str(alice_job.id)
        assert len(_the_status_query(_prepared_statements())) == 1
    finally:
        other.execute(f'ALTER TABLE "{table}" ALTER COLUMN "error" TYPE text')
        other.close()
