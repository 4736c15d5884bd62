"""The AMI server over raw TCP: Asterisk's answers to bad input, several clients with their own
event filters, slow clients, and the actions not covered by the capture replays."""
from __future__ import annotations

import asyncio
import hashlib
import re
import socket

from pbxsim.ami import AmiServer, AmiUser
from pbxsim.ami.codec import AmiReader, parse_wire, render_event
from pbxsim.clock import run_virtual
from pbxsim.dialplan import Dialplan
from pbxsim.events import make_event
from pbxsim.pbx import EndpointConfig, Pbx

from tests.captures import CAPTURES


class Client:
    def __init__(self, reader, writer):
        self.reader, self.writer, self.buf = reader, writer, b""

    @classmethod
    async def connect(cls, port: int, *, rcvbuf: int | None = None) -> "Client":
        if rcvbuf:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            sock.setblocking(False)
            await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
            reader, writer = await asyncio.open_connection(sock=sock)
        else:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = cls(reader, writer)
        assert await reader.readline() == b"Asterisk Call Manager/11.0.0\r\n"
        return client

    async def send(self, text: str | bytes) -> None:
        self.writer.write(text.encode() if isinstance(text, str) else text)
        await self.writer.drain()

    async def message(self, timeout: float = 5) -> dict[str, str]:
        raw = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), timeout)
        return dict(parse_wire(raw)[0])

    async def raw_message(self, timeout: float = 5) -> bytes:
        return await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), timeout)

    async def until(self, event: str, timeout: float = 10) -> list[dict[str, str]]:
        seen = []
        while True:
            msg = await self.message(timeout)
            seen.append(msg)
            if msg.get("Event") == event or msg.get("Response") == event:
                return seen

    async def action(self, text: str) -> dict[str, str]:
        await self.send(text)
        return await self.message()

    async def login(self, events: str = "on", user: str = "ivr", secret: str = "ivrsecret") -> dict[str, str]:
        resp = await self.action(f"Action: Login\r\nUsername: {user}\r\nSecret: {secret}\r\nEvents: {events}\r\n\r\n")
        assert resp["Message"] == "Authentication accepted", resp
        return resp

    async def quiet(self, seconds: float = 0.3) -> bytes:
        try:
            return await asyncio.wait_for(self.reader.read(65536), seconds)
        except asyncio.TimeoutError:
            return b""

    def close(self):
        self.writer.close()


async def start(tmp_path, **kwargs):
    pbx = Pbx(Dialplan.load(CAPTURES / "conf" / "extensions.conf"), monitor_dir=tmp_path,
              endpoints=kwargs.pop("endpoints", None))
    users = {"ivr": AmiUser("ivr", "ivrsecret", {"all"}, {"all"}),
             "sysonly": AmiUser("sysonly", "s3cret", {"system"}, {"system"})}
    server = AmiServer(pbx, users, **kwargs)
    await server.start()
    return pbx, server


async def stop(pbx, server, *clients):
    for c in clients:
        c.close()
    await server.close(announce_shutdown=False)
    await pbx.close()


# ---- the reader state machine ---------------------------------------------------------------
def test_reader_handles_any_split_bare_lf_and_garbage():
    data = b"Action: Ping\r\nActionID: 1\r\n\r\nAction: Ping\nActionID: 2\n\ngarbage without colon\r\n\r\n"
    for size in (1, 2, 3, 7, len(data)):
        reader = AmiReader()
        msgs = []
        for i in range(0, len(data), size):
            msgs += reader.feed(data[i:i + size])
        assert [m.lines for m in msgs] == [["Action: Ping", "ActionID: 1"], ["Action: Ping", "ActionID: 2"],
                                          ["garbage without colon"]]
        assert msgs[0].get("actionid") == "1" and msgs[2].get("Action") == ""


def test_reader_flags_long_lines_and_too_many_headers():
    reader = AmiReader()
    long = reader.feed(b"Action: Ping\r\nX: " + b"y" * 5000 + b"\r\nActionID: a\r\n\r\n")
    assert long[0].parse_error == "Failed to parse message: line too long" and long[0].get("ActionID") == "a"
    many = reader.feed(b"Action: Ping\r\n" + b"H: v\r\n" * 200 + b"\r\n")
    assert many[0].parse_error == "Too many lines in message or allocation failure"
    ok = reader.feed(b"Action: Ping\r\nActionID: \xff\xfe\r\n\r\n")   # not UTF-8: kept, never raises
    assert ok[0].parse_error is None and ok[0].get("Action") == "Ping"


# ---- bad input over TCP ----------------------------------------------------------------------
def test_garbage_missing_action_long_lines_and_unknown_actions_get_asterisk_answers(tmp_path):
    async def main():
        pbx, server = await start(tmp_path)
        c = await Client.connect(server.port)
        out = [await c.action("this line has no colon\r\n\r\n"),
               await c.action("ActionID: m1\r\n\r\n"),
               await c.action("Action: Ping\r\nActionID: big\r\nX: " + "z" * 3000 + "\r\n\r\n")]
        await c.login(events="off")
        out += [await c.action("Action: Frobnicate\r\nActionID: u1\r\n\r\n"),
                await c.action("Action:\r\nActionID: e1\r\n\r\n"),
                await c.action("Action: Originate\r\nActionID: o1\r\n\r\n"),
                await c.action("Action: Originate\r\nActionID: o2\r\nChannel: nonsense\r\nExten: s\r\n"
                               "Context: ivrctx\r\nPriority: 1\r\n\r\n"),
                await c.action("Action: Originate\r\nActionID: o3\r\nChannel: Local/s@x\r\nTimeout: soon\r\n\r\n"),
                await c.action("Action: Originate\r\nActionID: o4\r\nChannel: Local/s@callerctx\r\n"
                               "Context: nowhere\r\nExten: 9\r\nPriority: 1\r\n\r\n"),
                await c.action("Action: Redirect\r\nActionID: r1\r\n\r\n"),
                await c.action("Action: Redirect\r\nActionID: r2\r\nChannel: X/y\r\nContext: ivrctx\r\n"
                               "Exten: s\r\nPriority: 1\r\n\r\n"),
                await c.action("Action: Hangup\r\nActionID: h1\r\n\r\n"),
                await c.action("Action: Getvar\r\nActionID: g1\r\nChannel: X/y\r\n\r\n"),
                await c.action("Action: MixMonitor\r\nActionID: mm\r\n\r\n"),
                await c.action("Action: MixMonitorMute\r\nActionID: mu\r\nChannel: X/y\r\nDirection: up\r\n"
                               "State: 1\r\n\r\n"),
                await c.action("Action: BlindTransfer\r\nActionID: bt\r\nChannel: X/y\r\n\r\n"),
                await c.action("Action: Bridge\r\nActionID: br\r\nChannel1: X/y\r\n\r\n"),
                await c.action("Action: Command\r\nActionID: c1\r\n\r\n"),
                await c.action("Action: Events\r\nActionID: ev\r\nEventMask: \r\n\r\n")]
        still = await c.action("Action: Ping\r\nActionID: alive\r\n\r\n")
        await stop(pbx, server, c)
        return out, still

    out, still = run_virtual(main())
    assert [(m["Response"], m.get("ActionID"), m["Message"]) for m in out] == [
        ("Error", None, "Missing action in request"),
        ("Error", "m1", "Missing action in request"),
        ("Error", "big", "Failed to parse message: line too long"),
        ("Error", "u1", "Invalid/unknown command: Frobnicate. Use Action: ListCommands to show available commands."),
        ("Error", "e1", "Missing action in request"),
        ("Error", "o1", "Channel not specified"),
        ("Error", "o2", "Invalid channel"),
        ("Error", "o3", "Invalid timeout"),
        ("Error", "o4", "Extension does not exist."),
        ("Error", "r1", "Channel not specified"),
        ("Error", "r2", "Channel does not exist: X/y"),
        ("Error", "h1", "No channel specified"),
        ("Error", "g1", "No variable specified"),
        ("Error", "mm", "No channel specified"),
        ("Error", "mu", "Invalid direction specified. Must be read, write or both"),
        ("Error", "bt", "No extension specified"),
        ("Error", "br", "Missing channel parameter in request"),
        ("Error", "c1", "No command provided"),
        ("Error", "ev", "Invalid event mask"),
    ]
    assert still["Ping"] == "Pong"


def test_clients_disconnecting_mid_message_and_mid_action_do_not_hurt_others(tmp_path):
    async def main():
        pbx, server = await start(tmp_path)
        survivor = await Client.connect(server.port)
        await survivor.login(events="off")
        half = await Client.connect(server.port)
        await half.send("Action: Ping\r\nActionID: never-finish")
        half.close()
        quitter = await Client.connect(server.port)
        await quitter.send("Action: Login\r\nUsername: ivr\r\nSecret: wrong\r\n\r\n")   # server waits 1 s
        quitter.close()
        busy = await Client.connect(server.port)
        await busy.login(events="on")
        await busy.send("Action: Originate\r\nChannel: Local/long@callerctx\r\nContext: ivrctx\r\nExten: hold\r\n"
                        "Priority: 1\r\n\r\n")                                              # sync: in progress
        busy.writer.transport.abort()
        await asyncio.sleep(2)
        pong = await survivor.action("Action: Ping\r\nActionID: p\r\n\r\n")
        fresh = await Client.connect(server.port)
        await fresh.login(events="off")
        listing = await fresh.action("Action: CoreShowChannels\r\nActionID: l\r\n\r\n")
        sessions = len(server.sessions)
        await stop(pbx, server, survivor, fresh)
        return pong, listing, sessions

    pong, listing, sessions = run_virtual(main())
    assert pong["ActionID"] == "p" and pong["Ping"] == "Pong"
    assert listing["Message"] == "Channels will follow"
    assert sessions == 2


def test_each_client_gets_only_its_event_classes_in_emit_order(tmp_path):
    async def main():
        pbx, server = await start(tmp_path)
        everything = await Client.connect(server.port)
        await everything.login(events="on")
        calls = await Client.connect(server.port)
        await calls.login(events="call")
        nothing = await Client.connect(server.port)
        await nothing.login(events="off")
        sysonly = await Client.connect(server.port)
        await sysonly.login(events="on", user="sysonly", secret="s3cret")
        await asyncio.sleep(0.1)
        for c in (everything, sysonly):
            await c.quiet(0.2)              # FullyBooted / SuccessfulAuth of the logins
        await calls.quiet(0.2)
        emitted = []
        pbx.subscribe(emitted.append)
        await everything.send("Action: Originate\r\nChannel: Local/long@callerctx\r\nContext: ivrctx\r\n"
                              "Exten: hold\r\nPriority: 1\r\nAsync: true\r\nActionID: a1\r\n\r\n")
        await asyncio.sleep(3)
        got = {name: await c.quiet(0.5) for name, c in
               (("everything", everything), ("calls", calls), ("nothing", nothing), ("sysonly", sysonly))}
        emitted = list(emitted)
        await stop(pbx, server, everything, calls, nothing, sysonly)
        return emitted, got

    emitted, got = run_virtual(main())
    everything = [dict(m) for m in parse_wire(got["everything"])]
    assert everything[0]["Message"] == "Originate successfully queued"
    assert [m["Event"] for m in everything[1:]] == [e.name for e in emitted]
    calls = [dict(m) for m in parse_wire(got["calls"])]
    assert [m["Event"] for m in calls] == [e.name for e in emitted if e.privilege.startswith("call,")]
    assert {"Newexten", "VarSet"} & {e.name for e in emitted} and not {"Newexten", "VarSet"} & {m["Event"] for m in calls}
    assert got["nothing"] == b"" and got["sysonly"] == b""


def test_a_client_that_stops_reading_is_dropped_without_stalling_the_pbx(tmp_path):
    async def main():
        pbx, server = await start(tmp_path, max_backlog=1024 * 1024)
        slow = await Client.connect(server.port, rcvbuf=4096)
        await slow.login(events="on")
        fast = await Client.connect(server.port)
        await fast.login(events="on")
        await fast.quiet(0.2)
        received = 0

        async def drain_fast():
            nonlocal received
            while chunk := await fast.reader.read(65536):
                received += len(chunk)

        drainer = asyncio.ensure_future(drain_fast())
        payload = "x" * 400
        sent = 0
        for i in range(40_000):                        # ~19 MB of events, emitted synchronously
            event = make_event("UserEvent", "user,all", [("UserEvent", "flood"), ("Seq", str(i)), ("Data", payload)])
            pbx.emit(event)
            sent += len(render_event(event))
            if i % 50 == 0:
                await asyncio.sleep(0)
        await asyncio.sleep(1)
        slow_sessions = [s for s in server.sessions if s.remote[1] == slow.writer.get_extra_info("sockname")[1]]
        drainer.cancel()
        await stop(pbx, server, slow, fast)
        return slow_sessions, received, sent

    slow_sessions, received, sent = run_virtual(main())
    assert slow_sessions == []                       # the slow reader was disconnected
    assert received == sent > 15_000_000             # the reading client got every event meanwhile


# ---- actions not in the capture replays ---------------------------------------------------
def test_md5_challenge_login_and_list_commands(tmp_path):
    async def main():
        pbx, server = await start(tmp_path)
        c = await Client.connect(server.port)
        challenge = await c.action("Action: Challenge\r\nActionID: ch\r\nAuthType: MD5\r\n\r\n")
        key = hashlib.md5((challenge["Challenge"] + "ivrsecret").encode()).hexdigest()
        login = await c.action(f"Action: Login\r\nAuthType: MD5\r\nUsername: IVR\r\nKey: {key}\r\nEvents: off\r\n\r\n")
        again = await c.action("Action: Login\r\nUsername: ivr\r\nSecret: ivrsecret\r\n\r\n")
        commands = await c.action("Action: ListCommands\r\n\r\n")
        await stop(pbx, server, c)
        return challenge, login, again, commands

    challenge, login, again, commands = run_virtual(main())
    assert challenge["ActionID"] == "ch" and challenge["Challenge"].isdigit()
    assert login["Message"] == "Authentication accepted"
    assert again["Message"] == "Already authenticated"
    assert "Originate" in commands and "PJSIPShowEndpoints" in commands


def test_events_action_switches_the_flow(tmp_path):
    async def main():
        pbx, server = await start(tmp_path)
        c = await Client.connect(server.port)
        await c.login(events="off")
        pbx.emit(make_event("UserEvent", "user,all", [("UserEvent", "one")]))
        silent = await c.quiet(0.2)
        await c.send("Action: Events\r\nActionID: e\r\nEventMask: user\r\n\r\n")
        resp = await c.raw_message()
        pbx.emit(make_event("UserEvent", "user,all", [("UserEvent", "two")]))
        pbx.emit(make_event("Newchannel", "call,all", [("Channel", "X/y")]))
        event = await c.raw_message()
        rest = await c.quiet(0.2)
        await c.send("Action: Events\r\nActionID: f\r\nEventMask: off\r\n\r\n")
        off_resp = await c.raw_message()
        await stop(pbx, server, c)
        return silent, resp, event, rest, off_resp

    silent, resp, event, rest, off_resp = run_virtual(main())
    assert silent == b""
    assert resp == b"Response: Success\r\nActionID: e\r\nEvents: On\r\n\r\n"
    assert event == b"Event: UserEvent\r\nPrivilege: user,all\r\nUserEvent: two\r\n\r\n"
    assert rest == b""
    assert off_resp == b"Response: Success\r\nActionID: f\r\nEvents: Off\r\n\r\n"


def test_globals_endpoints_device_states_and_astdb(tmp_path):
    async def main():
        pbx, server = await start(tmp_path, endpoints=[EndpointConfig("1001", context="agentctx"),
                                                       EndpointConfig("1002", context="agentctx")])
        pbx.set_registered("1001", True, "sip:1001@127.0.0.1:5062")
        c = await Client.connect(server.port)
        await c.login(events="off")
        setvar = await c.action("Action: Setvar\r\nVariable: SITE\r\nValue: hz\r\n\r\n")
        getvar = await c.action("Action: Getvar\r\nVariable: SITE\r\n\r\n")
        await c.send("Action: PJSIPShowEndpoints\r\nActionID: ep\r\n\r\n")
        endpoints = await c.until("EndpointListComplete")
        await c.send("Action: DeviceStateList\r\nActionID: ds\r\n\r\n")
        states = await c.until("DeviceStateListComplete")
        put = await c.action("Action: DBPut\r\nFamily: ivr\r\nKey: lastcall\r\nVal: ok\r\n\r\n")
        await c.send("Action: DBGet\r\nActionID: db\r\nFamily: ivr\r\nKey: lastcall\r\n\r\n")
        got = await c.until("DBGetComplete")
        missing = await c.action("Action: DBGet\r\nFamily: ivr\r\nKey: nothing\r\n\r\n")
        await stop(pbx, server, c)
        return setvar, getvar, endpoints, states, put, got, missing

    setvar, getvar, endpoints, states, put, got, missing = run_virtual(main())
    assert setvar["Message"] == "Variable Set" and getvar["Value"] == "hz"
    assert endpoints[0]["Message"] == "A listing of Endpoints follows, presented as EndpointList events"
    assert endpoints[0]["EventList"] == "start"
    lists = [m for m in endpoints if m.get("Event") == "EndpointList"]
    assert [list(m) for m in lists][0] == ["Event", "ActionID", "ObjectType", "ObjectName", "Transport", "Aor",
                                          "Auths", "OutboundAuths", "Contacts", "DeviceState", "ActiveChannels"]
    by_name = {m["ObjectName"]: m for m in lists}
    assert by_name["1001"]["DeviceState"] == "Not in use" and by_name["1002"]["DeviceState"] == "Unavailable"
    assert by_name["1001"]["Contacts"] == "1001/sip:1001@127.0.0.1:5062,"
    assert endpoints[-1] == {"Event": "EndpointListComplete", "ActionID": "ep", "EventList": "Complete",
                             "ListItems": "2"}
    assert {m["Device"]: m["State"] for m in states if m.get("Event") == "DeviceStateChange"} == {
        "PJSIP/1001": "NOT_INUSE", "PJSIP/1002": "UNAVAILABLE"}
    assert states[-1]["ListItems"] == "2"
    assert put["Message"] == "Updated database successfully"
    assert [m for m in got if m.get("Event") == "DBGetResponse"][0]["Val"] == "ok"
    assert missing["Message"] == "Database entry not found"


def test_hangup_by_regex_lists_each_channel(tmp_path):
    async def main():
        pbx, server = await start(tmp_path)
        c = await Client.connect(server.port)
        await c.login(events="off")
        ok = await c.action("Action: Originate\r\nChannel: Local/long@callerctx\r\nContext: ivrctx\r\nExten: hold\r\n"
                            "Priority: 1\r\n\r\n")
        await c.send("Action: Hangup\r\nActionID: rx\r\nChannel: /^Local/long@callerctx-.*;1$/\r\n\r\n")
        listed = await c.until("ChannelsHungupListComplete")
        await stop(pbx, server, c)
        return ok, listed

    ok, listed = run_virtual(main())
    assert ok["Message"] == "Originate successfully queued"
    assert listed[0]["Message"] == "Channels hung up will follow"
    hung = [m for m in listed if m.get("Event") == "ChannelHungup"]
    assert len(hung) == 1 and hung[0]["Channel"].endswith(";1") and list(hung[0]) == ["Event", "Channel", "ActionID"]
    assert listed[-1]["ListItems"] == "1"


def test_long_line_arriving_in_small_pieces_is_dropped_and_the_next_message_works():
    reader = AmiReader()
    out = []
    data = b"Action: Ping\r\nActionID: L\r\nJunk: " + b"q" * 4000 + b"\r\n\r\nAction: Ping\r\nActionID: ok\r\n\r\n"
    for i in range(0, len(data), 100):
        out += reader.feed(data[i:i + 100])
    assert [(m.parse_error, m.get("ActionID")) for m in out] == [
        ("Failed to parse message: line too long", "L"), (None, "ok")]


def test_write_permission_is_checked_per_action(tmp_path):
    async def main():
        pbx, server = await start(tmp_path)
        c = await Client.connect(server.port)
        await c.login(events="off", user="sysonly", secret="s3cret")
        denied = await c.action("Action: Originate\r\nActionID: o\r\nChannel: Local/s@callerctx\r\n"
                                "Application: Wait\r\nData: 1\r\n\r\n")
        allowed = await c.action("Action: CoreShowChannels\r\nActionID: l\r\n\r\n")
        await stop(pbx, server, c)
        return denied, allowed

    denied, allowed = run_virtual(main())
    assert denied == {"Response": "Error", "ActionID": "o", "Message": "Permission denied"}
    assert allowed["Message"] == "Channels will follow"


async def test_real_time_loop_login_ping_async_originate(tmp_path):
    """The same server on an ordinary asyncio loop (``hotline sim`` runs in real time)."""
    pbx, server = await start(tmp_path)
    c = await Client.connect(server.port)
    await c.login(events="call")
    pong = await c.action("Action: Ping\r\nActionID: rt\r\n\r\n")
    await c.send("Action: Originate\r\nActionID: a\r\nChannel: Local/long@callerctx\r\nApplication: Wait\r\n"
                 "Data: 1\r\nAsync: yes\r\n\r\n")
    seen = await c.until("OriginateResponse", timeout=5)
    await stop(pbx, server, c)
    assert pong["Ping"] == "Pong" and float(pong["Timestamp"]) > 1.7e9
    assert seen[0]["Message"] == "Originate successfully queued"
    assert seen[-1]["ActionID"] == "a" and seen[-1]["Response"] == "Success"
    assert seen[-1]["Context"] == "" and seen[-1]["Exten"] == ""


def test_bridge_mute_blind_transfer_and_atxfer_on_live_calls(tmp_path):
    async def main():
        pbx, server = await start(tmp_path)
        c = await Client.connect(server.port)
        await c.login(events="call")
        for _ in range(2):
            await c.send("Action: Originate\r\nChannel: Local/long@callerctx\r\nContext: ivrctx\r\nExten: hold\r\n"
                         "Priority: 1\r\n\r\n")
            assert (await c.until("Success"))[-1]["Message"] == "Originate successfully queued"
        await asyncio.sleep(1)
        await c.quiet(0.5)
        a, b = [ch.name for ch in pbx.channels() if ch.name.endswith(";1")]

        async def run(text: str, seconds: float = 1.0) -> list[dict[str, str]]:
            await c.send(text)
            await asyncio.sleep(seconds)
            return [dict(m) for m in parse_wire(await c.quiet(0.5))]

        bridged = await run(f"Action: Bridge\r\nActionID: b\r\nChannel1: {a}\r\nChannel2: {b[:-2]}\r\n\r\n")
        await run(f"Action: MixMonitor\r\nActionID: m\r\nChannel: {a}\r\nFile: {tmp_path}/a.wav\r\n\r\n")
        muted = await run(f"Action: MixMonitorMute\r\nActionID: mu\r\nChannel: {a}\r\nDirection: both\r\n"
                          "State: on\r\n\r\n")
        atxfer = await run(f"Action: Atxfer\r\nActionID: at\r\nChannel: {b}\r\nExten: hold\r\n\r\n", 0.2)
        blind = await run(f"Action: BlindTransfer\r\nActionID: bt\r\nChannel: {a}\r\nContext: ivrctx\r\n"
                          "Exten: redirected\r\n\r\n")
        lonely = await run(f"Action: BlindTransfer\r\nActionID: bt2\r\nChannel: {a}\r\nExten: hold\r\n\r\n")
        await stop(pbx, server, c)
        return bridged, muted, blind, lonely, atxfer

    bridged, muted, blind, lonely, atxfer = run_virtual(main())
    assert bridged[0] == {"Response": "Success", "ActionID": "b", "Message": "Channels have been bridged"}
    assert [m["Event"] for m in bridged[1:]].count("BridgeEnter") == 2        # Channel2 matched by prefix
    assert muted[0] == {"Response": "Success", "ActionID": "mu"}
    assert blind[0] == {"Response": "Success", "ActionID": "bt", "Message": "Transfer succeeded"}
    assert "BlindTransfer" in [m.get("Event") for m in blind]
    # the transferer left the call with the transfer
    assert lonely[0] == {"Response": "Error", "ActionID": "bt2", "Message": "Channel specified does not exist"}
    assert atxfer[0] == {"Response": "Success", "ActionID": "at", "Message": "Atxfer successfully queued"}


def test_user_event_core_settings_and_core_status(tmp_path):
    async def main():
        pbx, server = await start(tmp_path)
        c = await Client.connect(server.port)
        await c.login(events="user")
        await c.send("Action: UserEvent\r\nActionID: u\r\nUserEvent: AgentNote\r\nAgent: 1001\r\nNote: 你好\r\n\r\n")
        ack, event = await c.raw_message(), await c.raw_message()
        settings = await c.action("Action: CoreSettings\r\nActionID: cs\r\n\r\n")
        status = await c.action("Action: CoreStatus\r\n\r\n")
        await stop(pbx, server, c)
        return ack, event, settings, status

    ack, event, settings, status = run_virtual(main())
    assert ack == b"Response: Success\r\nActionID: u\r\nMessage: Event Sent\r\n\r\n"
    assert event == ("Event: UserEvent\r\nPrivilege: user,all\r\nUserEvent: AgentNote\r\nActionID: u\r\n"
                     "Agent: 1001\r\nNote: 你好\r\n\r\n").encode()
    assert settings["AsteriskVersion"] == "22.10.1" and settings["AMIversion"] == "11.0.0"
    assert status["CoreCurrentCalls"] == "0" and re.fullmatch(r"\d\d:\d\d:\d\d", status["CoreStartupTime"])
