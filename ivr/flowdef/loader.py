"""Loading flows: read and fully validate flow files (the validator does the work), raising one FlowError."""
from __future__ import annotations

from pathlib import Path

from .model import Flow, FlowError
from .source import flow_files
from .validator import validate_files


def load_flow(path: Path, catalogue=None, *, calendars=None, queues=None) -> Flow:
    """Load and fully validate one flow file. Raises FlowError listing every problem found.

    Targets in other flows (`subflow`, `goto flow:node`) are checked against the flows in the same directory.
    """
    path = Path(path)
    flows, problems = validate_files([path], catalogue, calendars=calendars, queues=queues)
    if problems:
        raise FlowError(problems)
    return next(iter(flows.values()))


def load_flows(directory: Path, catalogue=None, *, calendars=None, queues=None) -> dict[str, Flow]:
    """Load every `*.yaml` flow in a directory (calendars.yaml excepted), by flow name; all errors collected."""
    flows, problems = validate_files(flow_files(directory), catalogue, calendars=calendars, queues=queues)
    if problems:
        raise FlowError(problems)
    return flows
