"""``python -m pbxsim`` runs the simulator as a stand-in Asterisk (real time, real TCP)."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

from pbxsim_capture import SITE_CONF


def read_until(sock: socket.socket, marker: bytes, timeout: float = 10.0) -> bytes:
    sock.settimeout(timeout)
    data = b""
    while marker not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_python_m_pbxsim_serves_ami_from_manager_conf(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "pbxsim", "--conf", str(SITE_CONF), "--ami-port", "0",
                             "--monitor-dir", str(tmp_path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    try:
        line = proc.stdout.readline().decode()
        m = re.search(r"AMI on 127\.0\.0\.1:(\d+), (\d+) softphones", line)
        assert m, line
        assert m.group(2) == "8"  # agents 1001-1006, supervisor 9001, QA 9101
        with socket.create_connection(("127.0.0.1", int(m.group(1))), timeout=5) as s:
            assert read_until(s, b"\r\n") == b"Asterisk Call Manager/11.0.0\r\n"
            s.sendall(b"Action: Login\r\nActionID: 1\r\nUsername: hotline\r\nSecret: hotline-secret\r\n\r\n")
            assert b"Message: Authentication accepted" in read_until(s, b"Authentication accepted")
            s.sendall(b"Action: PJSIPShowEndpoints\r\nActionID: 2\r\n\r\n")
            listing = read_until(s, b"EndpointListComplete")
            assert listing.count(b"Event: EndpointList\r\n") == 9  # with the trunk
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0


def test_broken_configuration_is_reported_with_file_and_line(tmp_path):
    for name in ("manager.conf", "pjsip.conf"):
        (tmp_path / name).write_text((SITE_CONF / name).read_text())
    (tmp_path / "extensions.conf").write_text("[ctx]\nexten => s,1,Answer()\n same => oops,Hangup()\n")
    proc = subprocess.run([sys.executable, "-m", "pbxsim", "--conf", str(tmp_path), "--ami-port", "0"],
                          capture_output=True, timeout=20)
    assert proc.returncode == 2
    assert f"{tmp_path / 'extensions.conf'}:3: bad priority" in proc.stderr.decode()
