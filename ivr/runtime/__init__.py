"""The flow runtime: executes flows (ivr.flowdef) node by node over a FastAGI channel."""
from .call import Call, FlowRuntimeError, RuntimeDeps
from .engine import CallResult, FlowEngine
from .interfaces import QUEUE_OUTCOMES, CallerPreferences, CustomerDirectory, Publisher, QueueHandoff, QueueOutcome

__all__ = [
    "Call", "FlowRuntimeError", "RuntimeDeps", "CallResult", "FlowEngine", "QUEUE_OUTCOMES", "CallerPreferences",
    "CustomerDirectory", "Publisher", "QueueHandoff", "QueueOutcome",
]
