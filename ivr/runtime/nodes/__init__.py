"""One executor per node type: ``async def executor(call) -> next`` (see ..steps for what next may be)."""
from __future__ import annotations

from typing import Awaitable, Callable

from ..call import Call
from . import audio, input, logic, messages, qa, routing

Executor = Callable[[Call], Awaitable[object]]

EXECUTORS: dict[str, Executor] = {
    "play": audio.play,
    "say": audio.say,
    "hangup": audio.hangup,
    "menu": input.menu,
    "collect": input.collect,
    "branch": logic.branch,
    "set": logic.set_,
    "lookup": logic.lookup,
    "goto": logic.goto,
    "subflow": logic.subflow,
    "queue": routing.queue,
    "transfer": routing.transfer,
    "voicemail": messages.voicemail,
    "callback": messages.callback,
    "survey": messages.survey,
    "qa_login": qa.qa_login,
    "recordings_search": qa.recordings_search,
    "recordings_play": qa.recordings_play,
}
