"""The service's AMI link (the CTI's AmiSession) against the simulator's AMI server over TCP."""
from __future__ import annotations

import asyncio

from hotline.ami import AmiLink
from hotline.config import AmiConfig
from pbxsim.simulator import Simulator


async def test_wrong_secret_never_counts_as_connected(service_settings, tmp_path):
    async with Simulator(service_settings.paths.asterisk_conf_dir, monitor_dir=tmp_path, ami_port=0) as sim:
        link = AmiLink(AmiConfig(port=sim.ami_port, username="hotline", secret="wrong"))
        async with asyncio.TaskGroup() as tasks:
            await link.start(tasks)
            try:
                assert not await link.wait_connected(timeout=2)
                assert link.status()["ok"] is False
            finally:
                await link.stop()
