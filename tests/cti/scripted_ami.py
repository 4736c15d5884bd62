"""A tiny scripted AMI server for wire-level edge cases the simulator cannot produce on demand
(a PBX that stops answering Pings, bytes split in the middle of a UTF-8 character, replayed captures).
Call-level behaviour is tested against pbxsim's Simulator instead."""
from __future__ import annotations

import asyncio

BANNER = b"Asterisk Call Manager/11.0.0\r\n"


def render(headers: list[tuple[str, str]]) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in headers).encode() + b"\r\n"


class ScriptedAmi:
    def __init__(self):
        self.server: asyncio.base_events.Server | None = None
        self.port = 0
        self.answer_pings = True
        self.answer_actions = True
        self.connections: list[asyncio.StreamWriter] = []
        self.received: list[dict[str, str]] = []
        self.logins = 0
        self.channels: list[list[tuple[str, str]]] = []   # CoreShowChannel item headers
        self.endpoints: list[list[tuple[str, str]]] = []  # EndpointList item headers
        self.flood_before_next_pong = b""                  # sent (once) ahead of the next Pong: an event storm
        self.raw_replies: dict[str, bytes] = {}            # action (lower case) -> bytes, "{aid}" = its ActionID

    async def start(self) -> "ScriptedAmi":
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def close(self) -> None:
        for w in self.connections:
            w.close()
        self.server.close()
        await self.server.wait_closed()

    def push(self, data: bytes) -> None:
        for w in self.connections:
            if not w.is_closing():
                w.write(data)

    def kill_connections(self) -> None:
        for w in self.connections:
            w.transport.abort()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections.append(writer)
        writer.write(BANNER)
        try:
            while True:
                block = await reader.readuntil(b"\r\n\r\n")
                headers = {}
                for line in block.decode().split("\r\n"):
                    if ": " in line:
                        k, v = line.split(": ", 1)
                        headers[k] = v
                self.received.append(headers)
                await self._answer(headers, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _answer(self, h: dict[str, str], w: asyncio.StreamWriter) -> None:
        action = h.get("Action", "").lower()
        aid = h.get("ActionID", "")
        if action == "login":
            self.logins += 1
            w.write(render([("Response", "Success"), ("ActionID", aid), ("Message", "Authentication accepted")]))
            return
        if action == "ping":
            if self.flood_before_next_pong:
                flood, self.flood_before_next_pong = self.flood_before_next_pong, b""
                w.write(flood)
            if self.answer_pings:
                w.write(render([("Response", "Success"), ("ActionID", aid), ("Ping", "Pong"),
                                ("Timestamp", "1795434886.211691")]))
            return
        if not self.answer_actions:
            return
        if action in self.raw_replies:
            w.write(self.raw_replies[action].replace(b"{aid}", aid.encode()))
            return
        if action == "coreshowchannels":
            w.write(render([("Response", "Success"), ("ActionID", aid), ("EventList", "start"),
                            ("Message", "Channels will follow")]))
            for item in self.channels:
                w.write(render([("Event", "CoreShowChannel"), ("ActionID", aid)] + item))
            w.write(render([("Event", "CoreShowChannelsComplete"), ("ActionID", aid), ("EventList", "Complete"),
                            ("ListItems", str(len(self.channels)))]))
        elif action == "pjsipshowendpoints":
            if not self.endpoints:
                w.write(render([("Response", "Error"), ("ActionID", aid), ("Message", "No endpoints found")]))
                return
            w.write(render([("Response", "Success"), ("ActionID", aid), ("EventList", "start"),
                            ("Message", "A listing of Endpoints follows, presented as EndpointList events")]))
            for item in self.endpoints:
                w.write(render([("Event", "EndpointList"), ("ActionID", aid)] + item))
            w.write(render([("Event", "EndpointListComplete"), ("ActionID", aid), ("EventList", "Complete"),
                            ("ListItems", str(len(self.endpoints)))]))
        elif action == "originate":
            w.write(render([("Response", "Success"), ("ActionID", aid), ("Message", "Originate successfully queued")]))
        elif action == "logoff":
            w.write(render([("Response", "Goodbye"), ("ActionID", aid), ("Message", "Thanks for all the fish.")]))
        else:
            w.write(render([("Response", "Error"), ("ActionID", aid),
                            ("Message", f"Invalid/unknown command: {h.get('Action')}. Use Action: ListCommands to show available commands.")]))
