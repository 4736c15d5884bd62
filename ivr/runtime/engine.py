"""The flow engine: walks a flow's nodes for one call over its AgiChannel.

Per call: answer, recall the caller's language, run nodes from ``flow.start`` (``goto`` may jump to
``other_flow:node``; ``subflow`` runs another flow and comes back to its ``next`` when that flow runs out of
nodes), count per-node statistics, and — however the call ends (hang-up, dropped socket, error,
cancellation) — write the statistics before the session closes.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from ivr.agi.channel import AgiChannel
from ivr.agi.errors import AgiConnectionLost, AgiError, AgiHangup
from ivr.flowdef.expr import ExprError
from ivr.flowdef.model import Flow
from ivr.say import SayError
from ivr.call_log import record_call_end
from ivr.stats import NodeStats, flush_quietly

from .call import Call, FlowRuntimeError, RuntimeDeps
from .nodes import EXECUTORS
from .steps import END, HANGUP, LEAVE, EnterSubflow

log = logging.getLogger(__name__)

INPUT_TYPES = frozenset({"menu", "collect", "survey", "callback"})


@dataclass
class CallResult:
    """How a call ended for the IVR (returned by FlowEngine.run, handy in tests and the demo)."""

    outcome: str            # completed | hangup | left | error
    flow: str
    node: str | None
    path: list[str]
    error: str = ""


class FlowEngine:
    def __init__(self, deps: RuntimeDeps) -> None:
        self.deps = deps
        self.results: list[CallResult] = []   # most recent calls, for the demo summary and tests
        self.max_results = 1000
        self.active_calls = 0                 # callers in a flow right now (read by /metrics)

    def handler(self, flow_name: str):
        """The FastAGI route handler running ``flow_name``."""
        async def run(channel: AgiChannel) -> None:
            await self.run(channel, flow_name)
        run.__name__ = f"run_{flow_name}"
        return run

    def _remember(self, result: CallResult) -> None:
        self.results.append(result)
        if len(self.results) > self.max_results:
            del self.results[: len(self.results) - self.max_results]

    async def run(self, channel: AgiChannel, flow_name: str) -> CallResult:
        flow = self.deps.flows[flow_name]
        request = channel.request
        lang = request.query.get("lang") or flow.default_language
        if lang not in flow.languages:
            lang = flow.default_language
        call = Call(channel=channel, deps=self.deps, flow=flow, lang=lang, stats=NodeStats(
            today=lambda: self.deps.now().date()))
        call.vars.update(flow.variables)
        result = CallResult("completed", flow.name, None, call.path)
        self.active_calls += 1
        started_at = self.deps.now()
        try:
            await channel.answer()
            await self._recall_language(call)
            outcome = await self._walk(call)
            result.outcome = "left" if outcome is LEAVE else "completed"
        except asyncio.CancelledError:
            result.outcome = "cancelled"   # the service is stopping: statistics are still written below
            call.count("cancelled")
            raise
        except AgiConnectionLost as exc:
            result.outcome = "hangup"
            call.count("hangup")
            log.warning("%s: FastAGI connection lost at %s:%s (%s)", request.channel, call.flow.name,
                        call.node.id if call.node else "-", exc)
        except AgiHangup as exc:
            result.outcome = "hangup"
            call.count("hangup")
            log.info("%s: caller gone at %s:%s (%s)", request.channel, call.flow.name,
                     call.node.id if call.node else "-", exc)
        except Exception as exc:  # a rejected command, a bad value in a flow, a database error, a bug
            result.outcome = "error"
            result.error = f"{type(exc).__name__}: {exc}"
            call.count("error")
            expected = isinstance(exc, (AgiError, ExprError, SayError, FlowRuntimeError))
            log.log(logging.ERROR, "%s: flow %s failed at node %s: %s", request.channel, call.flow.name,
                    call.node.id if call.node else "-", exc, exc_info=not expected)
            await self._fail_gracefully(call)
        finally:
            self.active_calls -= 1
            result.flow = call.flow.name
            result.node = call.node.id if call.node else None
            await flush_quietly(call.stats, self.deps.sessions)
            await record_call_end(self.deps.sessions, uniqueid=call.uniqueid, linkedid=call.linkedid,
                                  caller=call.caller, dnid=request.dnid, flow=flow.name, language=call.lang,
                                  outcome=result.outcome, last_node=result.node, path=call.path,
                                  started_at=started_at, ended_at=self.deps.now())
            self._remember(result)
            await self.deps.announce("ivr/call_end", {
                "uniqueid": call.uniqueid, "linkedid": call.linkedid, "caller": call.caller,
                "flow": flow.name, "outcome": result.outcome, "last_node": result.node, "path": call.path,
                "language": call.lang, "data": call.data,
            })
        return result

    async def _recall_language(self, call: Call) -> None:
        prefs = self.deps.preferences
        if prefs is None or not call.caller or "lang" in call.request.query:
            return
        try:
            remembered = await prefs.language(call.caller)
        except Exception:
            log.exception("could not read the remembered language of %s", call.caller)
            return
        if remembered in call.flow.languages:
            call.lang = remembered
            call.remembered_language = remembered
        call.vars["remembered_language"] = call.remembered_language

    async def _fail_gracefully(self, call: Call) -> None:
        """After a bug or a rejected command: tell the dialplan, keep the caller's line for it to handle."""
        if call.channel.closed:
            return
        try:
            await call.channel.set_variable("IVRSTATUS", "ERROR")
        except (AgiError, asyncio.TimeoutError):
            pass

    async def _walk(self, call: Call) -> object:
        stack: list[tuple[Flow, str | None]] = []
        target: object = call.flow.start
        for _step in range(self.deps.max_steps):
            if target is END or target is LEAVE:
                return target
            if target is HANGUP:
                await call.channel.hangup()
                return END
            if isinstance(target, EnterSubflow):
                stack.append((call.flow, target.return_to))
                call.flow = self.deps.flows[target.flow]
                target = call.flow.start
                continue
            if target is None or target == "return":
                if not stack:
                    return END
                call.flow, target = stack.pop()
                continue
            node_id = str(target)
            if ":" in node_id:
                flow_name, node_id = node_id.split(":", 1)
                if flow_name not in self.deps.flows:
                    raise FlowRuntimeError(f"goto to unknown flow {flow_name!r}")
                call.flow = self.deps.flows[flow_name]
            node = call.flow.nodes.get(node_id)
            if node is None:
                raise FlowRuntimeError(f"flow {call.flow.name!r} has no node {node_id!r}")
            executor = EXECUTORS.get(node.type)
            if executor is None:
                raise FlowRuntimeError(f"node {node.id!r}: unknown type {node.type!r}")
            if node.type not in INPUT_TYPES:
                call.pending_digit = None  # a barge-in key only answers the input node right after it
            call.node = node
            call.path.append(f"{call.flow.name}:{node.id}")
            call.count("entries")
            target = await executor(call)
        raise FlowRuntimeError(f"flow {call.flow.name!r} ran {self.deps.max_steps} steps without ending")
