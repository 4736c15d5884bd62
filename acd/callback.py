"""Callbacks: a caller who pressed the callback key keeps their place; when an agent is free the agent is
rung first, then the customer.

``CallbackDialer`` (the AcdService's ``callback_dialer``) rings the agent with an AMI Originate whose
application is a FastAGI session on our own server (``agi://HOST:PORT/acd-callback?call=…&offer=…``).
When the agent answers, Asterisk runs that session (``callback_session``): it tells the ACD the agent
answered, plays the notice to the agent, dials the customer with ``EXEC Dial``, and reports the result
(conversation ended, or CALLBACKFAILED). The AMI connection itself is CTI's: ``send_action(dict)`` is
injected: ``originate_over(ami)`` makes one from the CTI's AMI session.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Mapping

from acd import actions as act
from acd.handoff import channel_alive
from acd.ports import AmiActions
from acd.service import AcdService
from acd.state import CallState
from ivr.agi.channel import AgiChannel, AgiHandler

log = logging.getLogger(__name__)

SendAction = Callable[[dict[str, Any]], Awaitable[Any]]


def originate_over(ami: AmiActions) -> SendAction:
    """Send the callback's Originate on ``ami`` (replies are checked by the dialer, not raised); the action
    waits for the agent's answer, so its timeout is the ring timeout plus a margin."""
    async def send_action(action: dict[str, Any]) -> Any:
        return await ami.send_action(action, timeout=float(action.get("Timeout", 15000)) / 1000 + 10, check=False)
    return send_action


def _response(reply: Any) -> Mapping:
    if isinstance(reply, list):
        reply = reply[0] if reply else {}
    return reply if isinstance(reply, Mapping) else dict(reply or {})


class CallbackDialer:
    """``agi_address``: (host, port) of our FastAGI server, or a callable returning it (the service's
    server binds after the ACD starts)."""

    def __init__(self, send_action: SendAction, agi_address: tuple[str, int] | Callable[[], tuple[str, int]], *,
                 dial_template: str = "PJSIP/{number}@trunk", customer_ring_s: int = 30,
                 notice_prompt: str = "callback_agent_notice", session_timeout_s: float = 4 * 3600) -> None:
        self.send_action = send_action
        self.agi_address = agi_address
        self.dial_template = dial_template
        self.customer_ring_s = customer_ring_s
        self.notice_prompt = notice_prompt
        self.session_timeout_s = session_timeout_s
        self.sessions: dict[tuple[str, int], asyncio.Future] = {}

    def agi_url(self) -> str:
        host, port = self.agi_address() if callable(self.agi_address) else self.agi_address
        return f"agi://{host}:{port}/acd-callback"

    async def __call__(self, service: AcdService, offer: act.Offer) -> None:
        done = asyncio.get_running_loop().create_future()
        self.sessions[(offer.call_id, offer.offer_id)] = done
        action = {"Action": "Originate", "Channel": offer.endpoint, "Application": "AGI",
                  "Data": f"{self.agi_url()}?call={offer.call_id}&offer={offer.offer_id}",
                  "Timeout": str(int(offer.ring_timeout_s * 1000)), "Async": "false",
                  "CallerID": f"\"callback\" <{offer.callback_number}>",
                  "Variable": f"HOTLINE_CALLBACK={offer.callback_number}"}
        try:
            try:
                reply = _response(await self.send_action(action))
            except Exception as exc:            # AMI down, action error or timeout: this offer failed
                reply = {"Response": "Error", "Message": f"{type(exc).__name__}: {exc}"}
            if str(reply.get("Response", "")).lower() != "success":
                log.info("callback %s: agent %s did not answer (%s)", offer.call_id, offer.agent_id,
                         reply.get("Message", ""))
                service.offer_failed(offer.call_id, offer.agent_id, "noanswer", offer.offer_id)
                return
            await asyncio.wait_for(asyncio.shield(done), self.session_timeout_s)
        finally:
            self.sessions.pop((offer.call_id, offer.offer_id), None)

    def finished(self, call_id: str, offer_id: int) -> None:
        fut = self.sessions.get((call_id, offer_id))
        if fut is not None and not fut.done():
            fut.set_result(None)


def callback_session(service: AcdService, dialer: CallbackDialer) -> AgiHandler:
    """The FastAGI route handler for ``acd-callback`` (runs on the agent's channel)."""
    async def handle(channel: AgiChannel) -> None:
        query = channel.request.query
        call_id = query.get("call", "")
        try:
            offer_id = int(query.get("offer", "0"))
        except ValueError:
            offer_id = 0
        call = service.engine.calls.get(call_id)
        try:
            if call is None or call.state is not CallState.RINGING or call.offer_id != offer_id or not call.agent_id:
                log.warning("acd-callback for %s (offer %s) that is no longer ringing", call_id, offer_id)
                await channel.hangup()
                return
            agent_id = call.agent_id
            service.offer_answered(call_id, agent_id, offer_id)
            number = call.request.callback_number or call.request.caller
            lang = call.request.language or "zh-CN"
            await channel.stream_file(f"hotline/{lang}/{dialer.notice_prompt}")
            await channel.exec("Dial", f"{dialer.dial_template.format(number=number)},{dialer.customer_ring_s}")
            status = (await channel.get_variable("DIALSTATUS")) or ""
            if status == "ANSWER":
                # this session runs on the agent's channel: dead means the agent hung up
                service.call_ended(call_id, "caller" if await channel_alive(channel) else "agent")
            else:
                service.callback_failed(call_id)
        finally:
            live = service.engine.calls.get(call_id)
            if live is not None and live.offer_id == offer_id:
                if live.state is CallState.CONNECTED:
                    service.callback_failed(call_id)
                elif live.state is CallState.RINGING and live.agent_id:
                    service.offer_failed(call_id, live.agent_id, "noanswer", offer_id)
            dialer.finished(call_id, offer_id)
    return handle
