"""Readers for the real-Asterisk captures in shared/asterisk/ and a normaliser for comparing them.

``ami/*.log`` lines look like ``  2.611 [calls] >>> b'Action: Ping\\r\\n...'``; ``agi/*.log``
lines like ``  3.216 <<< b'agi_network: yes\\n'``. Values Asterisk does not keep
stable between runs (uniqueids, channel sequence numbers, timestamps, session
ids, command ids, addresses) are replaced by placeholders numbered in order of
first appearance, so two streams compare equal when their structure does.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from .codec import parse_wire

_LINE = re.compile(r"^\s*(?P<t>\d+\.\d+)\s+(?:\[(?P<tag>[^\]]+)\]\s+)?(?P<dir><<<|>>>)\s+(?P<data>b(['\"]).*\5)\s*$")
_EOF = re.compile(r"^\s*(?P<t>\d+\.\d+)\s+(?:\[(?P<tag>[^\]]+)\]\s+)?<<<\s+EOF\s*$")


@dataclass
class Chunk:
    t: float
    tag: str
    direction: str      # "<<<" from Asterisk, ">>>" to Asterisk, "EOF"
    data: bytes


def read_log(path: str | Path) -> list[Chunk]:
    chunks = []
    for line in Path(path).read_text().splitlines():
        m = _LINE.match(line)
        if m:
            chunks.append(Chunk(float(m["t"]), m["tag"] or "", m["dir"], ast.literal_eval(m["data"])))
            continue
        m = _EOF.match(line)
        if m:
            chunks.append(Chunk(float(m["t"]), m["tag"] or "", "EOF", b""))
    return chunks


def exchanges(chunks: list[Chunk], tag: str = "") -> list[tuple[float, bytes, bytes, bool]]:
    """Per client write: (time, bytes sent, bytes Asterisk sent until the next client write, closed)."""
    out: list[list] = []
    pre = b""
    for c in chunks:
        if c.tag != tag:
            continue
        if c.direction == ">>>":
            out.append([c.t, c.data, b"", False])
        elif out:
            if c.direction == "EOF":
                out[-1][3] = True
            else:
                out[-1][2] += c.data
        else:
            pre += c.data
    return [(0.0, b"", pre, False)] + [tuple(x) for x in out]


_ID_KEYS = re.compile(r"(Uniqueid|Linkedid)$")
_TIME_KEYS = {"Timestamp", "EventTV", "SessionTV", "SessionID", "LocalAddress", "RemoteAddress",
              "Duration", "Seconds", "Uptime", "LastReload"}
CHAN_SEQ = re.compile(r"-([0-9a-f]{8})(?=;[12]$|$)")


class Normaliser:
    """Replace run-specific values by stable placeholders (keeps one mapping across messages)."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        self.seqs: dict[str, str] = {}
        self.cmds: dict[str, str] = {}

    def _id(self, value: str) -> str:
        if value in ("", "<null>"):
            return value
        return self.ids.setdefault(value, f"<id{len(self.ids)}>")

    def _chan(self, value: str) -> str:
        def repl(m):
            return "-" + self.seqs.setdefault(m.group(1), f"<seq{len(self.seqs)}>")
        return CHAN_SEQ.sub(repl, value)

    def pairs(self, pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        out = []
        for k, v in pairs:
            if _ID_KEYS.search(k):
                v = self._id(v)
            elif k in _TIME_KEYS:
                v = "*"
            elif k == "CommandId":
                v = self.cmds.setdefault(v, f"<cmd{len(self.cmds)}>")
            elif "Channel" in k or k in ("Value", "BRIDGEPEER", "DialString", "Device", "AppData", "Data",
                                          "ApplicationData", "Output"):
                v = self._chan(v)
            out.append((k, v))
        return out

    def wire(self, data: bytes) -> list[list[tuple[str, str]]]:
        return [self.pairs(m) for m in parse_wire(data)]


# ---- FastAGI captures --------------------------------------------------------------------------------
@dataclass
class AgiSessionLog:
    scenario: str
    channel: str                                   # agi_channel of the session
    header: list[bytes]                            # full header lines when the capture shows them
    commands: list[tuple[float, bytes, bytes]]     # (time sent, command line, bytes Asterisk sent until the next command)
    connected_at: float
    closed_at: float | None


_AGI_CONN = re.compile(r"^\s*(?P<t>\d+\.\d+)\s+=== connection from")
_AGI_CLOSE = re.compile(r"^\s*(?P<t>\d+\.\d+)\s+=== server closing connection")
_AGI_HDR = re.compile(r"agi_channel=(?P<chan>\S+)")
_AGI_DATA = re.compile(r"^\s*(?P<t>\d+\.\d+)\s+(?P<dir><<<|>>>)\s+(?P<data>b(['\"]).*\4)\s*$")


def read_agi_log(path: str | Path) -> list[AgiSessionLog]:
    sessions: list[AgiSessionLog] = []
    scenario = ""
    cur: AgiSessionLog | None = None
    in_header = False
    for line in Path(path).read_text().splitlines():
        if line.startswith("#####"):
            scenario = line.strip("# ").replace("scenario", "").strip()
            continue
        m = _AGI_CONN.match(line)
        if m:
            cur = AgiSessionLog(scenario, "", [], [], float(m["t"]), None)
            sessions.append(cur)
            in_header = "HEADER BLOCK" in line
            continue
        if cur is None:
            continue
        if "header block" in line.lower():
            hm = _AGI_HDR.search(line)
            if hm:
                cur.channel = hm["chan"]
            in_header = "HEADER BLOCK" in line
            continue
        m = _AGI_CLOSE.match(line)
        if m:
            cur.closed_at = float(m["t"])
            continue
        m = _AGI_DATA.match(line)
        if not m:
            continue
        data = ast.literal_eval(m["data"])
        if m["dir"] == "<<<" and in_header:
            cur.header.append(data)
            if data.startswith(b"agi_channel: "):
                cur.channel = data[len(b"agi_channel: "):].decode().strip()
            if data == b"\n":
                in_header = False
            continue
        if m["dir"] == ">>>":
            cur.commands.append((float(m["t"]), data, b""))
        elif cur.commands and data:
            t, cmd, got = cur.commands[-1]
            cur.commands[-1] = (t, cmd, got + data)
    return sessions
