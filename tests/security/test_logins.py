"""Item 11: PINs hashed, one throttling policy with lockout for every entry point, kept over a restart;
tokens expire and can be revoked. Through `hotline serve` (HTTP login, Basic auth) and the Authenticator."""
from __future__ import annotations

import asyncio
import base64
import threading

import httpx
import pytest

from cti.auth import AuthError, Authenticator, TooManyAttempts
from hotline.config import load_settings
from hotline.security.pins import hash_pin, is_pin_hash, verify_pin
from tests.hotline.conftest import PROJECT_ROOT
from tests.security.serve import serving


def _basic(agent_id: str, pin: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{agent_id}:{pin}".encode()).decode()}


def test_lockout_over_http_login_and_basic_survives_a_restart(tmp_path):
    with serving(tmp_path) as served:
        root = served.root
        with httpx.Client(base_url=served.http, timeout=10) as http:
            for _ in range(4):
                assert http.post("/api/auth/login", json={"agent_id": "1001", "pin": "0000"}).status_code == 401
            # the fifth wrong PIN, over Basic auth: the same policy counts it and locks the account
            assert http.get("/api/agents", headers=_basic("1001", "9999")).status_code == 429
            locked = http.post("/api/auth/login", json={"agent_id": "1001", "pin": "1234"})
            assert locked.status_code == 429 and "too many failed logins" in locked.json()["error"]
            assert int(locked.headers["Retry-After"]) > 60
            assert http.get("/api/agents", headers=_basic("1001", "1234")).status_code == 429
            # another account is not affected
            assert http.post("/api/auth/login", json={"agent_id": "1002", "pin": "2345"}).status_code == 200
    with serving(tmp_path, root=root) as again:                 # a restart does not reset the lockout
        with httpx.Client(base_url=again.http, timeout=10) as http:
            assert http.post("/api/auth/login", json={"agent_id": "1001", "pin": "1234"}).status_code == 429
        assert "Traceback" not in again.log_text()


def test_tokens_are_revoked_by_logout_and_expire(tmp_path):
    with serving(tmp_path) as served:
        with httpx.Client(base_url=served.http, timeout=10) as http:
            token = http.post("/api/auth/login", json={"agent_id": "1002", "pin": "2345"}).json()["token"]
            bearer = {"Authorization": f"Bearer {token}"}
            assert http.get("/api/agents", headers=bearer).status_code == 200
            assert http.post("/api/auth/logout", headers=bearer).json()["revoked"] is True
            after = http.get("/api/agents", headers=bearer)
            assert after.status_code == 401 and "revoked" in after.json()["error"]
    clock = [1000.0]
    settings = load_settings(PROJECT_ROOT / "config", env={})
    auth = Authenticator(settings.agents, token_ttl=60, clock=lambda: clock[0])
    token = asyncio.run(auth.login("1002", "2345"))["token"]
    assert auth.verify_token(token).agent_id == "1002"
    clock[0] += 61
    with pytest.raises(AuthError, match="expired"):
        auth.verify_token(token)


def test_pins_are_hashed_and_pin_hash_entries_work(tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    for name in ("hotline.toml", "queues.yaml"):
        (config / name).write_text((PROJECT_ROOT / "config" / name).read_text(encoding="utf-8"), encoding="utf-8")
    agents = (PROJECT_ROOT / "config" / "agents.yaml").read_text(encoding="utf-8")
    stored = hash_pin("4711")
    agents = agents.replace('pin: "1234"', f'pin_hash: "{stored}"', 1)
    (config / "agents.yaml").write_text(agents, encoding="utf-8")
    settings = load_settings(config, env={})
    auth = Authenticator(settings.agents)
    assert all(is_pin_hash(h) for h in auth._hashes.values())          # plain PINs hashed at load
    assert "1234" not in auth._hashes.values() and "2345" not in auth._hashes.values()
    assert asyncio.run(auth.login("1001", "4711"))["agent_id"] == "1001"
    assert asyncio.run(auth.login("1002", "2345"))["agent_id"] == "1002"               # a plain demo PIN still works
    with pytest.raises(AuthError):
        asyncio.run(auth.check_pin("1001", "1234"))
    assert verify_pin("4711", stored) and not verify_pin("4712", stored) and not verify_pin("4711", "scrypt$x")


def test_per_source_throttling_covers_unknown_accounts():
    settings = load_settings(PROJECT_ROOT / "config", env={})
    auth = Authenticator(settings.agents)
    for i in range(19):
        with pytest.raises(AuthError):
            asyncio.run(auth.check_pin(f"99{i:02d}", "0000", source="10.0.0.9"))
    with pytest.raises(TooManyAttempts):
        asyncio.run(auth.check_pin("9999", "0000", source="10.0.0.9"))
    with pytest.raises(TooManyAttempts):                # right PIN, locked source
        asyncio.run(auth.check_pin("1001", "1234", source="10.0.0.9"))
    assert asyncio.run(auth.check_pin("1001", "1234", source="10.0.0.10")).agent_id == "1001"


async def test_a_pin_check_runs_off_the_event_loop(monkeypatch):
    """scrypt costs 10-40 ms a check: on the event loop every caller's prompt and AMI event would wait for each
    login. The check runs on the PIN-check threads while the loop goes on (here: the loop itself releases it)."""
    from hotline.security import pins

    gate, checks = threading.Event(), []
    real = pins.verify_pin

    def held_check(pin: str, stored: str) -> bool:
        released_by_the_loop = gate.wait(5)
        checks.append((threading.current_thread().name, released_by_the_loop))
        return real(pin, stored)

    monkeypatch.setattr(pins, "verify_pin", held_check)
    auth = Authenticator(load_settings(PROJECT_ROOT / "config", env={}).agents)
    login = asyncio.ensure_future(auth.login("1001", "1234", source="10.0.0.1"))
    await asyncio.sleep(0.05)                 # the loop runs while the check is in flight
    gate.set()
    assert (await login)["agent_id"] == "1001"
    with pytest.raises(AuthError):
        await auth.check_pin("1002", "0000", source="10.0.0.1")
    assert [released for _, released in checks] == [True, True]
    assert all(name.startswith("pin-check") for name, _ in checks)
