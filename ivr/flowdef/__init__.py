"""Flow files: model, YAML loading with positions, validation, expressions, calendars, drawing."""
from .expr import ExprError, compile_expr, interpolate, runtime_functions
from .loader import load_flow, load_flows
from .model import Flow, FlowError, FlowProblem, Node

__all__ = ["Flow", "FlowError", "FlowProblem", "Node", "load_flow", "load_flows", "compile_expr", "interpolate",
           "runtime_functions", "ExprError"]
