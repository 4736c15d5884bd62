"""AMI server of the PBX simulator (Asterisk Manager Interface, as Asterisk 22 speaks it)."""
from .server import AmiServer, AmiSession
from .users import AmiUser

__all__ = ["AmiServer", "AmiSession", "AmiUser"]
