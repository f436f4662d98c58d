"""simulator/security.py: a NUL character anywhere a client writes it is a 400 naming
where (PostgreSQL would refuse it mid-query: a 500), and every page carries a
Content-Security-Policy whose nonce its own inline script and style hold."""

from __future__ import annotations

import re

import pytest

from simulator.models import SimulationJob

NUL_QUERIES = [
    ("/dashboard/jobs/", "owner"),
    ("/dashboard/jobs/", "status"),
    ("/admin/simulator/simulationjob/", "status"),
    ("/admin/simulator/simulationjob/", "q"),
    ("/admin/auth/user/", "username__contains"),
    ("/admin/authtoken/tokenproxy/", "key"),
]


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


class TestNulIsA400:
    @pytest.mark.parametrize(("url", "name"), NUL_QUERIES)
    @pytest.mark.parametrize("value", ["\x00", "stella\x00"])
    def test_in_a_page_query_parameter(self, staff_client, alice_job, url, name, value):
        response = staff_client.get(url, {name: value})
        assert response.status_code == 400
        assert f"{name}: contains a NUL character" in response.content.decode()

    @pytest.mark.parametrize("name", ["status", "name", "created_after", "page"])
    def test_in_an_api_query_parameter_in_the_apis_shape(self, alice_client, name):
        response = alice_client.get("/api/jobs/", {name: "a\x00"})
        assert response.status_code == 400
        assert response.json()["errors"] == [{"path": name, "reason": "contains a NUL character"}]

    def test_in_a_parameters_name(self, alice_client):
        response = alice_client.get("/api/jobs/?na%00me=x")
        assert response.status_code == 400
        assert response.json()["errors"][0]["path"] == "na\\x00me"

    def test_in_a_form_field(self, client, admin_user):
        response = client.post("/admin/login/", {"username": "admin\x00", "password": "x"})
        assert response.status_code == 400
        assert "username: contains a NUL character" in response.content.decode()

    def test_in_the_path(self, staff_client):
        response = staff_client.get("/admin/authtoken/tokenproxy/%00/change/")
        assert response.status_code == 400

    @pytest.mark.parametrize("url", ["/dashboard/", "/admin/", "/api/jobs/"])
    def test_in_a_cookie(self, client, db, url):
        # Django decodes a quoted cookie's octal escapes: "\000" is a NUL, which the
        # session lookup would hand to PostgreSQL.
        client.cookies["sessionid"] = "abcdefghij\x00"
        response = client.get(url)
        assert response.status_code == 400
        assert "cookie sessionid" in response.content.decode()

    def test_in_a_header(self, anon_client, alice_job):
        response = anon_client.get(
            f"/api/status/{alice_job.id}/", HTTP_AUTHORIZATION="Token abc\x00"
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["path"] == "header Authorization"

    def test_a_request_without_one_is_untouched(self, staff_client, alice_job):
        assert staff_client.get("/dashboard/jobs/", {"owner": "alice"}).status_code == 200
        assert SimulationJob.objects.count() == 1


def _nonces(page: str) -> set[str]:
    return set(re.findall(r'nonce="([^"]+)"', page))


class TestContentSecurityPolicy:
    def test_a_dashboard_page_runs_only_what_carries_its_nonce(self, staff_client):
        response = staff_client.get("/dashboard/")
        policy = response["Content-Security-Policy"]
        nonces = _nonces(response.content.decode())
        # The page's one <style> and one <script>, both with this response's nonce.
        assert len(nonces) == 1
        nonce = nonces.pop()
        assert f"script-src 'self' 'nonce-{nonce}'" in policy
        assert f"style-src 'self' 'nonce-{nonce}'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy

    def test_each_response_draws_a_new_nonce(self, staff_client):
        first = _nonces(staff_client.get("/dashboard/").content.decode())
        second = _nonces(staff_client.get("/dashboard/").content.decode())
        assert first and second and first != second

    def test_no_page_carries_an_inline_style_attribute(self, staff_client, alice, master_config):
        from tests.dashboard.test_pages import _job

        job = _job(alice, master_config, edge=0.01)
        for url in ("/dashboard/", "/dashboard/jobs/", f"/dashboard/jobs/{job.id}/"):
            page = staff_client.get(url).content.decode()
            assert " style=" not in page, url
            assert "<script>" not in page and "<style>" not in page, url

    @pytest.mark.parametrize(
        "url", ["/admin/", "/admin/simulator/simulationjob/", "/api/jobs/", "/", "/healthz"]
    )
    def test_every_response_has_the_policy(self, staff_client, url):
        policy = staff_client.get(url)["Content-Security-Policy"]
        # Nothing inline on these pages: no nonce is drawn, nothing inline may run.
        assert "script-src 'self';" in policy and "style-src 'self';" in policy

    def test_the_api_docs_mark_their_inline_script_and_style(self, client, db):
        response = client.get("/api/docs/")
        page = response.content.decode()
        (nonce,) = _nonces(page)
        assert page.count(f'nonce="{nonce}"') == 2
        assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
        assert "<script>" not in page and "<style>" not in page
