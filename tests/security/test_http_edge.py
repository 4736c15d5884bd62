"""Item 3: `hotline serve` refuses a request body before reading it: no credentials -> 401, over the
endpoint's limit -> 413 (by Content-Length at once, or while a chunked body streams), too deep -> 422."""
from __future__ import annotations

import base64
import json
import socket
from urllib.parse import urlsplit

from tests.security.serve import serving

BASIC_SUP = "Basic " + base64.b64encode(b"9001:9001").decode()


def _raw(url: str, head: str, body_chunks=(), timeout: float = 10.0) -> tuple[int, dict, int]:
    """Send the request head (and as many chunks as the server takes); return (status, json, bytes sent)."""
    parts = urlsplit(url)
    sent = 0
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        sock.sendall(head.encode("latin-1"))
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = b""
        while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < _length(data):
            more = sock.recv(65536)
            if not more:
                break
            data += more
    status = int(data.split(b" ", 2)[1])
    return status, json.loads(data.split(b"\r\n\r\n", 1)[1] or b"{}"), sent


def _length(data: bytes) -> int:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 0


def _chunked(total: int, size: int = 64 * 1024):
    piece = b"x" * size
    for _ in range(total // size):
        yield f"{size:x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"


def test_big_bodies_are_refused_before_they_are_read(tmp_path):
    with serving(tmp_path) as served:
        host = urlsplit(served.http).netloc
        mib300 = 300 * 1024 * 1024
        # no credentials: 401 from the head alone, the 300 MiB never sent
        status, body, _ = _raw(served.http, f"PUT /api/calls/x/data HTTP/1.1\r\nHost: {host}\r\n"
                                            f"Content-Type: application/json\r\nContent-Length: {mib300}\r\n\r\n")
        assert status == 401 and "credentials required" in body["error"]
        # credentials but a declared size over call data's 1 MiB: 413 from the head alone
        status, body, _ = _raw(served.http, f"PUT /api/calls/x/data HTTP/1.1\r\nHost: {host}\r\nAuthorization: "
                                            f"{BASIC_SUP}\r\nContent-Type: application/json\r\n"
                                            f"Content-Length: {mib300}\r\n\r\n")
        assert status == 413 and "1048576-byte limit" in body["error"]
        # a chunked body is counted as it arrives and cut off just past the limit
        status, body, sent = _raw(served.http, f"POST /api/supervisor/announcements HTTP/1.1\r\nHost: {host}\r\n"
                                               f"Authorization: {BASIC_SUP}\r\nContent-Type: application/json\r\n"
                                               f"Transfer-Encoding: chunked\r\n\r\n", _chunked(mib300))
        assert status == 413 and "65536-byte limit" in body["error"]
        assert sent < 64 * 1024 * 1024                       # refused long before the end
        # nested JSON: 422 with the reason, not a 500
        deep = b"[" * 5000 + b"]" * 5000
        status, body, _ = _raw(served.http, f"PUT /api/calls/x/data HTTP/1.1\r\nHost: {host}\r\nAuthorization: "
                                            f"{BASIC_SUP}\r\nContent-Type: application/json\r\n"
                                            f"Content-Length: {len(deep)}\r\n\r\n", [deep])
        assert status == 422 and "nested deeper" in body["error"]
        assert served.alive() and served.health() in (200, 503)
        assert "Traceback" not in served.log_text()


def test_a_huge_agent_id_at_login_never_makes_a_huge_log_line(tmp_path):
    """Item 4: 10 MiB of agent ID is refused at the edge (413) and every log line stays short."""
    with serving(tmp_path) as served:
        host = urlsplit(served.http).netloc
        body = json.dumps({"agent_id": "1" * (10 << 20), "pin": "0000"}).encode()
        status, reply, _ = _raw(served.http, f"POST /api/auth/login HTTP/1.1\r\nHost: {host}\r\n"
                                             f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n",
                                [body])
        assert status == 413
        # 60,000 characters fit the body limit but not the field: 422, and the log line stays short too
        body = json.dumps({"agent_id": "1" * 60_000, "pin": "0000"}).encode()
        status, reply, _ = _raw(served.http, f"POST /api/auth/login HTTP/1.1\r\nHost: {host}\r\n"
                                             f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n",
                                [body])
        assert status == 422 and "at most 64 characters" in reply["error"]
        basic = base64.b64encode(b"1" * 30_000 + b":0000").decode()
        status, reply, _ = _raw(served.http, f"GET /api/agents HTTP/1.1\r\nHost: {host}\r\n"
                                             f"Authorization: Basic {basic}\r\n\r\n")
        assert status == 401
        assert served.alive()
        assert max(len(line) for line in served.log_text().splitlines()) < 2500
