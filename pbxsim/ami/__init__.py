"""AMI server of the PBX simulator: the Asterisk Manager Interface as Asterisk 22 speaks it.

    server = AmiServer(pbx, {"hotline": AmiUser("hotline", "secret", {"all"}, {"all"})}, port=0)
    await server.start(); server.port; await server.close()

Modules: ``codec`` (reader state machine, renderers), ``users`` (AmiUser, permission
classes, ``Events:`` masks), ``session`` (AmiSession, one per connection: login state,
event filter, bounded output), ``server`` (AmiServer: accepts connections, hands each
session the action dispatcher), ``actions`` (one handler per action),
``cli`` (the ``Command`` action's CLI subset), ``transcripts`` (reading the real
Asterisk captures and normalising run-specific values for comparisons).

Actions: Login (plain and MD5 Challenge), Logoff, Ping, Events, ListCommands,
Command (core show version|channels|uptime, dialplan show), Originate (sync and
Async with OriginateResponse), Redirect (with ExtraChannel), Hangup (name or
/regex/), Getvar/Setvar (channel and global), Status, CoreShowChannels,
MixMonitor, StopMixMonitor, MixMonitorMute, BlindTransfer, Atxfer, Bridge,
PJSIPShowEndpoints, DeviceStateList, DBGet/DBPut/DBDel, UserEvent,
CoreSettings, CoreStatus. Anything else: ``Invalid/unknown command``.
"""
from .server import AmiServer
from .session import AmiSession
from .users import AmiUser

__all__ = ["AmiServer", "AmiSession", "AmiUser"]
