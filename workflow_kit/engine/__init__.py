"""The pure part of the engine: the graph, the planner, edge conditions, and the builtin actions."""

from .conditions import ConditionError, json_equal, truthy
from .graph import WorkflowGraph
from .planner import Plan, plan

__all__ = ["ConditionError", "Plan", "WorkflowGraph", "json_equal", "plan", "truthy"]
