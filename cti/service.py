"""The CTI's life inside `hotline serve`: hotline/service.py builds the ``Cti`` with its collaborators and
runs it with ``running(cti, ami, commands)`` after the bus and the AMI link start, before HTTP opens."""
from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from cti.ami import AmiSession
from cti.core import Cti
from cti.mqtt import MqttCommands
from cti.ports import CommandBus


@contextlib.asynccontextmanager
async def running(cti: Cti, ami: AmiSession, commands: CommandBus) -> AsyncIterator[Cti]:
    """Agent states recovered, the live model fed by ``ami`` (resync on every connect), agents' MQTT
    commands heard on ``commands``; the agent service closed at the end."""
    await cti.start()
    cti.attach(ami)
    if ami.connected.is_set():      # connected before we registered the resync hook
        await cti.resync(ami)
    MqttCommands(cti, commands).register()
    try:
        yield cti
    finally:
        await cti.close()
