"""The seams between the domains are Protocols owned by their consumer; the type checker rejects a
collaborator of the wrong shape. CI runs mypy over the whole product (the real implementations are
checked where hotline/service.py passes them); this test shows, on small stand-ins and in a few seconds,
that each seam refuses a wrong shape and accepts the right one."""
from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PORTS = ["cti/ports.py", "acd/ports.py", "recordings/ports.py", "ivr/runtime/interfaces.py"]

SNIPPET = '''
from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, Awaitable, Callable, Mapping

from acd.ports import AmiActions, CtiAgents, StatsPublisher
from cti.ports import CommandBus, QueueDesk
from ivr.runtime.interfaces import QueueHandoff, QueueOutcome, RecordingsSearch
from recordings.ports import AmiEvents, CallData


class State(Enum):
    READY = "ready"


class Agent:
    id = "1001"
    state = State.READY
    reason: str | None = None


class GoodAcd:                       # what the CTI needs of the ACD
    def queue_stats(self) -> dict[str, dict[str, Any]]: return {}
    def offer_answered(self, linkedid: str, agent_id: str) -> bool: return True


class AcdWithoutAnswers:
    def queue_stats(self) -> dict[str, dict[str, Any]]: return {}


class GoodAgents:                    # what the ACD needs of the CTI
    agents: dict[str, Agent] = {}
    listeners: list[Callable[[Any, dict[str, Any]], Any]] = []
    def autopause(self, agent_id: str, reason: str = "ring-no-answer") -> None: ...


class AgentsWithoutAutopause:
    agents: dict[str, Agent] = {}
    listeners: list[Callable[[Any, dict[str, Any]], Any]] = []


class GoodHandoff:                   # what the IVR needs of the ACD
    async def enqueue(self, call: Any, queue: str, skill: str | None, priority: int) -> QueueOutcome:
        return QueueOutcome("overflow")


class SyncHandoff:
    def enqueue(self, call: Any, queue: str, skill: str | None, priority: int) -> QueueOutcome:
        return QueueOutcome("overflow")


class GoodSearch:                    # what the IVR's QA replay needs of the recordings
    async def find(self, agent_id: str, start: datetime, end: datetime) -> list[Mapping[str, Any]]: return []
    async def audit_replay(self, staff_id: str, recording_id: int) -> None: ...


class SearchWithoutAudit:
    async def find(self, agent_id: str, start: datetime, end: datetime) -> list[Mapping[str, Any]]: return []


class GoodCallData:                  # what the recordings need of the CTI's call data
    def get(self, linkedid: str) -> dict[str, Any]: return {}


class CallDataByNumber:
    def get(self, linkedid: int) -> dict[str, Any]: return {}


class GoodBus:                       # the event bus, as the CTI and the ACD use it
    def subscribe(self, pattern: str, handler: Callable[[str, dict[str, Any]], Awaitable[None]]) -> None: ...
    async def publish(self, topic_suffix: str, payload: dict[str, Any], retain: bool = False,
                      qos: int = 0) -> None: ...


class GoodAmi:                       # the AMI session, as the ACD and the recordings use it
    async def send_action(self, action: dict[str, Any], as_list: bool | None = None, *,
                          timeout: float | None = None, check: bool = True) -> Any: ...
    def add_observer(self, observer: Callable[[Any], None]) -> None: ...


desk: QueueDesk = GoodAcd()
agents: CtiAgents = GoodAgents()
handoff: QueueHandoff = GoodHandoff()
search: RecordingsSearch = GoodSearch()
calldata: CallData = GoodCallData()
commands: CommandBus = GoodBus()
stats: StatsPublisher = GoodBus()
actions: AmiActions = GoodAmi()
events: AmiEvents = GoodAmi()

wrong_desk: QueueDesk = AcdWithoutAnswers()                  # WRONG
wrong_agents: CtiAgents = AgentsWithoutAutopause()           # WRONG
wrong_handoff: QueueHandoff = SyncHandoff()                  # WRONG
wrong_search: RecordingsSearch = SearchWithoutAudit()        # WRONG
wrong_calldata: CallData = CallDataByNumber()                # WRONG
wrong_bus: CommandBus = GoodAcd()                            # WRONG
'''


def test_each_seam_rejects_a_collaborator_of_the_wrong_shape(tmp_path):
    snippet = tmp_path / "seams.py"
    snippet.write_text(textwrap.dedent(SNIPPET), encoding="utf-8")
    wrong = {i for i, line in enumerate(snippet.read_text().splitlines(), 1) if line.endswith("# WRONG")}
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "--follow-imports", "skip",
         "--cache-dir", str(tmp_path / "mypy-cache"), "--no-error-summary", "--show-error-codes",
         str(snippet), *PORTS],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    flagged = {int(m.group(1)) for line in errors if (m := re.match(rf"{re.escape(str(snippet))}:(\d+): error", line))}
    assert flagged == wrong, result.stdout
    assert all(line.startswith(str(snippet)) for line in errors), result.stdout   # the ports themselves are clean
    assert result.returncode == 1
