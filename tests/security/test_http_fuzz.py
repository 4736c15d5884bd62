"""HTTP-body fuzz against `hotline serve` (hypothesis, bounded to a few seconds): whatever the body, every
endpoint answers below 500 and the service stays up."""
from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from tests.security.serve import serving

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2 ** 80, max_value=2 ** 80) | st.floats(allow_nan=False)
    | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=20), inner, max_size=5),
    max_leaves=30)
known_keys = st.fixed_dictionaries({}, optional={
    "agent_id": json_values, "pin": json_values, "announcement_id": json_values, "reason": json_values,
    "text": json_values, "audience": json_values, "state": json_values, "ready": json_values})
bodies = st.one_of(
    st.binary(max_size=3000),
    json_values.map(lambda v: json.dumps(v).encode()),
    known_keys.map(lambda v: json.dumps(v).encode()),
    st.integers(min_value=1, max_value=3000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(min_value=1, max_value=3000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
)
ENDPOINTS = [("POST", "/api/auth/login"), ("PUT", "/api/calls/1700000000.1/data"),
             ("POST", "/api/agents/1001/login"), ("POST", "/api/agents/1001/ack-announcement"),
             ("POST", "/api/agents/1001/not-ready"), ("POST", "/api/agents/1001/force-state"),
             ("POST", "/api/supervisor/announcements"), ("POST", "/api/recordings/1/evaluations"),
             ("POST", "/api/recordings/live/x/pause")]


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("fuzz")) as served:
        with httpx.Client(base_url=served.http, timeout=10) as http:
            token = http.post("/api/auth/login", json={"agent_id": "9001", "pin": "9001"}).json()["token"]
            yield served, http, {"Authorization": f"Bearer {token}"}
        assert served.alive()
        assert "Traceback" not in served.log_text()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(endpoint=st.sampled_from(ENDPOINTS), body=bodies,
       content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded"]))
def test_any_body_is_answered_below_500(service, endpoint, body, content_type):
    served, http, auth = service
    method, path = endpoint
    response = http.request(method, path, content=body, headers={**auth, "Content-Type": content_type})
    assert response.status_code < 500, (method, path, body[:200], response.text[:300])


def test_the_service_is_healthy_after_the_fuzz(service):
    served, http, _ = service
    assert served.alive() and http.get("/api/health").status_code in (200, 503)
