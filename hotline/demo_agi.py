"""The foundation's FastAGI handler for `agi://…/hotline` while no IVR flow runtime is installed:
answer, play the greeting, hang up. It runs on the IVR package's FastAGI server (ivr.agi.server)."""
from __future__ import annotations

from ivr.agi.errors import AgiError

GREETING = "welcome"


def greeting_sound(language: str) -> str:
    return f"hotline/{language}/{GREETING}"


def make_greeting_handler(default_language: str):
    async def greeting(channel) -> None:
        try:
            await channel.answer()
            await channel.stream_file(greeting_sound(default_language))
            await channel.hangup()
        except AgiError:
            pass    # the caller hung up first: nothing to undo
    return greeting
