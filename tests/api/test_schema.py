"""/api/schema/ (OpenAPI 3) and /api/docs/ (served offline), and schemathesis over the
schema against the app in process: no input makes a 500, every answer matches the schema."""

from __future__ import annotations

import re

import pytest
import yaml


@pytest.fixture
def schema_doc(anon_client) -> dict:
    response = anon_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


class TestSchema:
    def test_it_is_openapi_3_with_every_endpoint(self, schema_doc):
        assert schema_doc["openapi"].startswith("3.")
        assert set(schema_doc["paths"]) >= {
            "/api/token/",
            "/api/submit/",
            "/api/status/{job_id}/",
            "/api/results/{job_id}/",
            "/api/defaults/",
            "/api/engine/",
            "/api/jobs/",
            "/api/jobs/{job_id}/",
            "/api/jobs/{job_id}/cancel/",
            "/api/validate/",
            "/api/profiles/",
            "/api/profiles/{profile_id}/",
        }

    def test_every_operation_documents_its_errors_and_the_config_is_an_object(self, schema_doc):
        for path, operations in schema_doc["paths"].items():
            for method, operation in operations.items():
                codes = set(operation["responses"])
                assert "429" in codes, (method, path)
                if path != "/api/token/":
                    assert "401" in codes, (method, path)
                if "{" in path:
                    assert "404" in codes, (method, path)
        submit = schema_doc["paths"]["/api/submit/"]["post"]
        config = submit["requestBody"]["content"]["application/json"]["schema"]
        assert config["type"] == "object" and "num_rounds" in config["properties"]
        assert "400" in submit["responses"] and "413" in submit["responses"]

    def test_it_is_served_as_yaml_too(self, anon_client):
        response = anon_client.get("/api/schema/")
        assert response.status_code == 200
        assert yaml.safe_load(response.content)["info"]["title"] == "JOST Cloud API"


class TestDocs:
    def test_the_docs_page_loads_nothing_from_another_host(self, anon_client):
        response = anon_client.get("/api/docs/")
        assert response.status_code == 200
        html = response.content.decode()
        assert "swagger-ui" in html
        sources = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert sources and all(not s.startswith(("http:", "https:", "//")) for s in sources)


@pytest.mark.slow  # schemathesis: hundreds of generated requests
@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_500_and_no_answer_off_the_schema(alice, settings, throttle_off):
    """Generated requests for every operation, as alice, against the WSGI app in process.
    Bounded: a few examples per operation, no shrinking, a deadline per example."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given
    from hypothesis import settings as hypothesis_settings
    from rest_framework.authtoken.models import Token
    from schemathesis import checks

    from service.wsgi import application

    token, _ = Token.objects.get_or_create(user=alice)
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    selected = [
        checks.not_a_server_error,
        checks.response_schema_conformance,
        checks.content_type_conformance,
    ]
    failures: list[str] = []
    calls: list[int] = []

    def explore(operation) -> None:
        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=15,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
        def run(case) -> None:
            response = case.call(headers={"Authorization": f"Token {token.key}"})
            calls.append(response.status_code)
            case.validate_response(response, checks=selected)

        run()

    for result in schema.get_all_operations():
        operation = result.ok()
        try:
            explore(operation)
        except Exception as exc:  # every failing operation is reported, not just the first
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures[:5])
    assert len(calls) >= 50, len(calls)  # it really ran: about 15 requests per operation


@pytest.fixture
def throttle_off():
    from rest_framework.throttling import SimpleRateThrottle

    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = {scope: None for scope in original}
    yield
    SimpleRateThrottle.THROTTLE_RATES = original


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_schemathesis_chains_of_calls_find_no_500_and_no_answer_off_the_schema(
    alice, master_config, throttle_off
):
    """Stateful: schemathesis links the operations by the ids their answers carry (a job
    or profile listed or created, then read, changed, cancelled or deleted by its id; the
    links it infers from the schema) and runs generated chains of calls as alice, who
    starts each chain with one job and one profile. Bounded: a fixed seed, 25 chains of
    at most 6 calls, no shrinking."""
    import schemathesis
    from hypothesis import HealthCheck, Phase
    from hypothesis import settings as hypothesis_settings
    from rest_framework.authtoken.models import Token
    from schemathesis import checks

    from service.wsgi import application
    from simulator.models import Profile, SimulationJob
    from simulator.services.submit import submit_job

    token, _ = Token.objects.get_or_create(user=alice)
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    selected = [
        checks.not_a_server_error,
        checks.response_schema_conformance,
        checks.content_type_conformance,
    ]
    calls: list[tuple[str, str, int]] = []

    class AsAlice(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self):
            # Every chain starts from the same state: what the last one made is gone.
            SimulationJob.objects.filter(owner=alice).delete()
            Profile.objects.filter(owner=alice).delete()
            submit_job(alice, master_config)
            Profile.objects.create(owner=alice, profile_type="player", name="mine", data={})

        def get_call_kwargs(self, case):
            return {"headers": {"Authorization": f"Token {token.key}"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            calls.append((case.method, case.operation.path, response.status_code))
            case.validate_response(response, checks=selected)

    assert len(AsAlice.bundles) >= 4, AsAlice.bundles  # links were found
    AsAlice.run(
        settings=hypothesis_settings(
            max_examples=25,
            stateful_step_count=6,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            derandomize=True,
        )
    )
    # The chains reached real objects: a call on a path with an id that the API answered
    # with success, which only an id taken from an earlier answer can give.
    chained = [c for c in calls if "{" in c[1] and 200 <= c[2] < 300]
    assert chained, sorted(set(calls))[:20]
