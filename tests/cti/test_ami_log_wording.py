"""The AMI log says what happened: "closed by the PBX" only when the PBX closed the connection, not when hotline
dropped it (ping timeout, refused login); a wrong or missing banner is warned about."""
from __future__ import annotations

import asyncio
import logging

from cti.ami import AmiSession
from tests.cti import scripted_ami
from tests.cti.scripted_ami import ScriptedAmi, render
from tests.cti.test_ami_session import _config, _running, _stop


def messages(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "cti.ami" or r.name.endswith(".ami")]


async def until(predicate, seconds: float = 5.0) -> None:
    for _ in range(int(seconds / 0.02)):
        if predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met")


async def test_the_pbx_closing_the_connection_is_said_so(caplog):
    caplog.set_level(logging.INFO)
    server = await ScriptedAmi().start()
    session = AmiSession(_config(server.port))
    task = await _running(session)
    for writer in server.connections:
        writer.close()                                   # the PBX closes (a restart)
    await until(lambda: "AMI connection closed by the PBX" in messages(caplog))
    await session.wait_connected(3)
    await _stop(session, task)
    await server.close()
    assert not [m for m in messages(caplog) if "dropped by hotline" in m]


async def test_a_ping_timeout_is_hotline_dropping_the_connection(caplog):
    caplog.set_level(logging.INFO)
    server = await ScriptedAmi().start()
    session = AmiSession(_config(server.port))
    task = await _running(session)
    server.answer_pings = False
    await until(lambda: any("dropped by hotline (no Pong and nothing else within" in m for m in messages(caplog)))
    server.answer_pings = True
    await session.wait_connected(3)
    await _stop(session, task)
    await server.close()
    assert not [m for m in messages(caplog) if "closed by the PBX" in m]


class RefusingAmi(ScriptedAmi):
    async def _answer(self, h, w):
        if h.get("Action", "").lower() == "login":
            self.logins += 1
            w.write(render([("Response", "Error"), ("ActionID", h.get("ActionID", "")),
                            ("Message", "Authentication failed")]))
            return
        await super()._answer(h, w)


async def test_a_refused_login_is_not_the_pbx_closing(caplog):
    caplog.set_level(logging.INFO)
    server = await RefusingAmi().start()
    session = AmiSession(_config(server.port))
    task = asyncio.create_task(session.run())
    await until(lambda: server.logins >= 2)
    await _stop(session, task)
    await server.close()
    text = messages(caplog)
    assert any("dropped by hotline (AmiAuthError" in m for m in text), text
    assert not [m for m in text if "closed by the PBX" in m]


async def test_a_missing_or_wrong_banner_is_warned_about(caplog, monkeypatch):
    caplog.set_level(logging.WARNING)
    for banner, expected in ((b"Response: Success\r\n", "AMI peer sent no banner"),
                             (b"Asterisk Call Manager/banana\r\n", "not an Asterisk manager version")):
        caplog.clear()
        monkeypatch.setattr(scripted_ami, "BANNER", banner)
        server = await ScriptedAmi().start()
        session = AmiSession(_config(server.port))
        task = asyncio.create_task(session.run())
        await until(lambda: any(expected in m for m in messages(caplog)))
        await _stop(session, task)
        await server.close()
    monkeypatch.setattr(scripted_ami, "BANNER", b"Asterisk Call Manager/11.0.0\r\n")
    caplog.clear()
    server = await ScriptedAmi().start()
    session = AmiSession(_config(server.port))
    task = await _running(session)
    await _stop(session, task)
    await server.close()
    assert not [m for m in messages(caplog) if "banner" in m]
