"""A scripted AMI peer answering MixMonitor actions with the bytes of the Asterisk 22 capture (ami_mm.log).

For the Recorder's wire behaviour until pbxsim's Simulator lands: the client is the real panoramisk
Manager over TCP; this side answers Login, MixMonitor, StopMixMonitor and MixMonitorMute like Asterisk,
and `No such channel` for channels it does not know.
"""
from __future__ import annotations

import asyncio

BANNER = b"Asterisk Call Manager/11.0.0\r\n"


def render(headers: list[tuple[str, str]]) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in headers).encode() + b"\r\n"


def channel_block(channel: str, uniqueid: str, linkedid: str) -> list[tuple[str, str]]:
    return [("Channel", channel), ("ChannelState", "6"), ("ChannelStateDesc", "Up"), ("CallerIDNum", "200"),
            ("CallerIDName", "Bob"), ("ConnectedLineNum", "200"), ("ConnectedLineName", "Bob"), ("Language", "en"),
            ("AccountCode", ""), ("Context", "ivrctx"), ("Exten", "hold"), ("Priority", "2"),
            ("Uniqueid", uniqueid), ("Linkedid", linkedid)]


class ScriptedMixMonitorAmi:
    def __init__(self, channels: dict[str, tuple[str, str]]):
        self.channels = channels  # channel name -> (uniqueid, linkedid)
        self.received: list[dict[str, str]] = []
        self.server = None
        self.port = 0
        self._writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self):
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc):
        self.drop()
        self.server.close()
        await self.server.wait_closed()

    def drop(self) -> None:
        for w in self._writers:
            w.transport.abort()

    def actions(self, name: str) -> list[dict[str, str]]:
        return [a for a in self.received if a.get("Action", "").lower() == name.lower()]

    async def _serve(self, reader, writer):
        self._writers.append(writer)
        writer.write(BANNER)
        try:
            while True:
                block = await reader.readuntil(b"\r\n\r\n")
                headers = dict(line.split(": ", 1) for line in block.decode().split("\r\n") if ": " in line)
                self.received.append(headers)
                writer.write(self._answer(headers))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def _answer(self, h: dict[str, str]) -> bytes:
        action, aid = h.get("Action", "").lower(), h.get("ActionID", "")
        if action == "login":
            return render([("Response", "Success"), ("ActionID", aid), ("Message", "Authentication accepted")])
        if action in ("mixmonitor", "stopmixmonitor", "mixmonitormute"):
            chan = h.get("Channel", "")
            if chan not in self.channels:
                return render([("Response", "Error"), ("ActionID", aid), ("Message", "No such channel")])
            out = render([("Response", "Success"), ("ActionID", aid)])
            uniqueid, linkedid = self.channels[chan]
            if action == "mixmonitor":
                out += render([("Event", "MixMonitorStart"), ("Privilege", "call,all"), *channel_block(chan, uniqueid, linkedid)])
            elif action == "stopmixmonitor":
                out += render([("Event", "MixMonitorStop"), ("Privilege", "call,all"), *channel_block(chan, uniqueid, linkedid)])
            return out
        return render([("Response", "Error"), ("ActionID", aid), ("Message", "Invalid/unknown command")])
