"""hotline: IVR and CTI server for Asterisk call centres (FastAGI flows, ACD, recordings, MQTT events)."""
from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("hotline")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.1.0"
