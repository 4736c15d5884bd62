"""contrib/: the systemd unit (systemd-analyze verify when the machine has it; its keys always) and the Grafana
dashboard (every panel queries a series /metrics really exports)."""
from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
UNIT = PROJECT_ROOT / "contrib" / "systemd" / "hotline.service"
DASHBOARD = PROJECT_ROOT / "contrib" / "grafana" / "hotline.json"


def unit_sections() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str          # systemd keys are case-sensitive
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def test_the_unit_has_what_a_service_needs():
    """Install-free: parsed here, so it is checked on machines without systemd too."""
    unit = unit_sections()
    assert unit.sections() == ["Unit", "Service", "Install"]
    service = unit["Service"]
    assert service["ExecStart"].split()[1:] == ["serve"]
    assert service["ExecStart"].split()[0].endswith("/.venv/bin/hotline")
    assert service["User"] and service["WorkingDirectory"].startswith("/")
    assert service["KillSignal"] == "SIGTERM" and service["Restart"] == "on-failure"
    assert service["RestartPreventExitStatus"] == "1"      # a configuration error is not fixed by restarting
    assert service["ReadWritePaths"].endswith("/data")
    assert unit["Install"]["WantedBy"] == "multi-user.target"
    known = {"Description", "Documentation", "After", "Wants", "Type", "User", "Group", "WorkingDirectory",
             "Environment", "ExecStart", "KillSignal", "TimeoutStopSec", "Restart", "RestartSec",
             "RestartPreventExitStatus", "NoNewPrivileges", "PrivateTmp", "ProtectSystem", "ProtectHome",
             "ReadWritePaths", "ProtectKernelTunables", "ProtectControlGroups", "RestrictAddressFamilies",
             "LimitNOFILE", "WantedBy"}
    for section in unit.sections():
        assert set(unit[section]) <= known, set(unit[section]) - known


def test_systemd_analyze_verify_accepts_the_unit(tmp_path):
    """With systemd-analyze on the machine (Debian's systemd package), the unit is verified by systemd itself,
    its paths pointed at a throw-away install; without it the test above is the check."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        test_the_unit_has_what_a_service_needs()
        return
    hotline = tmp_path / ".venv" / "bin" / "hotline"
    hotline.parent.mkdir(parents=True)
    hotline.write_text("#!/bin/sh\n")
    hotline.chmod(0o755)
    (tmp_path / "data").mkdir()
    unit = tmp_path / "hotline.service"
    unit.write_text(UNIT.read_text(encoding="utf-8").replace("/opt/hotline", str(tmp_path)), encoding="utf-8")
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert not [line for line in result.stderr.splitlines() if "hotline.service" in line], result.stderr


def exported_series() -> set[str]:
    source = (PROJECT_ROOT / "hotline" / "metrics.py").read_text(encoding="utf-8")
    names = set()
    for kind, name in re.findall(r'(Gauge|Counter)MetricFamily\(\s*"(hotline_[a-z_]+)"', source):
        names.add(name + ("_total" if kind == "Counter" else ""))
    if "registry.register(GC_COLLECTOR)" in source:        # prometheus_client's collector of the GC's work
        names |= {"python_gc_collections_total", "python_gc_objects_collected_total",
                  "python_gc_objects_uncollectable_total"}
    return names


def test_every_dashboard_panel_queries_an_exported_series():
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    series = exported_series()
    assert {"hotline_calls_in_progress", "hotline_agents", "hotline_queue_waiting", "hotline_ami_events_total",
            "hotline_http_requests_total", "hotline_mqtt_dropped_total"} <= series
    queried = set()
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            names = set(re.findall(r"\b(?:hotline|python_gc)_[a-z_]+", target["expr"]))
            assert names and names <= series, (panel["title"], names - series)
            queried |= names
    hotline_series = {name for name in series if name.startswith("hotline_")}
    assert hotline_series <= queried, hotline_series - queried     # every series of hotline's is on the dashboard
