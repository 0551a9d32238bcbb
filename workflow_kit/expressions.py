"""CEL expressions (cel-python): compiled once and cached; errors carry the expression and position.

Variables are plain JSON values; results come back as plain JSON values too. Which variables an
expression may use depends on where it stands (``event`` and ``state`` in conditions; ``event`` and
``async`` in waits), and `check` rejects any other name at save time.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any

import celpy
import msgspec
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.celparser import CELParseError
from celpy.evaluation import CELEvalError, base_functions
from lark import Token, Tree

from .errors import ExpressionError

MAX_EXPRESSION_LENGTH = 4096
CEL_FORMAT = "cel"
CONDITION_VARIABLES = ("event", "state")

CelExpression = Annotated[
    str,
    msgspec.Meta(
        description="A CEL expression over `event` (the trigger) and `state` (outputs by action id)",
        extra_json_schema={"format": CEL_FORMAT},
    ),
]
"""Annotate an action input with this to take a CEL expression: it is compiled and checked at save time."""

_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
_TYPE_NAMES = frozenset({"int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type", "dyn"})
_ENV = celpy.Environment()
_COMPILE_LOCK = threading.Lock()  # cel-python shares one Lark parser per process


def _loosely_numeric(operation: Any) -> Any:
    """JSON has one number type, so ``event.data.n > 1.5`` must work when n decodes as an int.
    Like Inngest's CEL, mixed int/double operands are compared and combined as doubles."""

    def apply(left: Any, right: Any) -> Any:
        left_int = isinstance(left, celtypes.IntType | celtypes.UintType) and not isinstance(left, celtypes.BoolType)
        right_int = isinstance(right, celtypes.IntType | celtypes.UintType) and not isinstance(right, celtypes.BoolType)
        if left_int and isinstance(right, celtypes.DoubleType):
            left = celtypes.DoubleType(left)
        elif right_int and isinstance(left, celtypes.DoubleType):
            right = celtypes.DoubleType(right)
        return operation(left, right)

    return apply


_FUNCTIONS = {
    name: _loosely_numeric(base_functions[name])
    for name in ("_+_", "_-_", "_*_", "_/_", "_<_", "_<=_", "_>_", "_>=_", "_==_", "_!=_")
}


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled CEL program and the free variable names it reads."""

    source: str
    program: celpy.Runner
    names: frozenset[str]


@lru_cache(maxsize=2048)
def compile_expression(source: str) -> Expression:
    """Compile (cached). Raises `ExpressionError` with the line and column of a syntax error."""
    if not source.strip():
        raise ExpressionError(source, "the expression is empty")
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(source[:60] + "...", f"the expression is longer than {MAX_EXPRESSION_LENGTH} characters")
    with _COMPILE_LOCK:
        try:
            tree = _ENV.compile(source)
        except CELParseError as exc:
            raise ExpressionError(source, "syntax error", line=exc.line, column=exc.column) from None
        program = _ENV.program(tree, functions=_FUNCTIONS)
    return Expression(source, program, _free_names(tree))


def check(source: str, variables: Collection[str]) -> Expression:
    """Compile and check that the expression reads only the given variables."""
    expression = compile_expression(source)
    unknown = sorted(expression.names - set(variables))
    if unknown:
        allowed = ", ".join(sorted(variables))
        raise ExpressionError(source, f"unknown variable {unknown[0]!r} (available: {allowed})")
    return expression


def evaluate(source: str | Expression, variables: Mapping[str, Any]) -> Any:
    """Evaluate with JSON-valued variables; returns a JSON value. Raises `ExpressionError`."""
    expression = source if isinstance(source, Expression) else compile_expression(source)
    activation = {name: json_to_cel(value) for name, value in variables.items()}
    try:
        result = expression.program.evaluate(activation)
    except CELEvalError as exc:
        raise ExpressionError(expression.source, _eval_message(exc)) from None
    except (TypeError, ValueError, ArithmeticError, KeyError) as exc:  # cel-python leaks a few of these
        raise ExpressionError(expression.source, str(exc)) from None
    if isinstance(result, CELEvalError):
        raise ExpressionError(expression.source, _eval_message(result))
    return to_json(result)


def evaluate_bool(source: str | Expression, variables: Mapping[str, Any]) -> bool:
    """Evaluate an expression that must give a boolean (a condition)."""
    value = evaluate(source, variables)
    if not isinstance(value, bool):
        text = source.source if isinstance(source, Expression) else source
        raise ExpressionError(text, f"a condition must give true or false, not {type(value).__name__} {value!r}")
    return value


def to_json(value: Any) -> Any:
    """Convert a CEL value to plain JSON-compatible Python."""
    if value is None or isinstance(value, celtypes.BoolType | bool):
        return None if value is None else bool(value)
    if isinstance(value, celtypes.IntType | celtypes.UintType):
        return int(value)
    if isinstance(value, celtypes.DoubleType | float):
        return float(value)
    if isinstance(value, celtypes.StringType | str):
        return str(value)
    if isinstance(value, celtypes.BytesType | bytes):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, celtypes.TimestampType):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, celtypes.DurationType):
        return f"{value.total_seconds():g}s"
    if isinstance(value, celtypes.MapType | dict):
        return {str(to_json(k)): to_json(v) for k, v in value.items()}
    if isinstance(value, celtypes.ListType | list | tuple):
        return [to_json(v) for v in value]
    return str(value)


def _eval_message(exc: CELEvalError) -> str:
    message = str(exc.args[0]) if exc.args else str(exc)
    if "undeclared reference to" in message:  # cel-python appends the whole activation
        message = message.split(" (in activation", 1)[0]
    return message[:300]


def _free_names(tree: Tree[Token]) -> frozenset[str]:
    names: set[str] = set()
    bound: set[str] = set()
    for node in tree.iter_subtrees():
        if node.data == "ident":
            names.update(str(t) for t in node.children if isinstance(t, Token))
        elif node.data == "member_dot_arg":
            method = next((c for c in node.children if isinstance(c, Token)), None)
            args = next((c for c in node.children if isinstance(c, Tree) and c.data == "exprlist"), None)
            if method is not None and str(method) in _MACROS and args is not None and args.children:
                first = args.children[0]
                if isinstance(first, Tree):
                    idents = [n for n in first.iter_subtrees() if n.data == "ident"]
                    if len(idents) == 1:
                        bound.update(str(t) for t in idents[0].children if isinstance(t, Token))
    return frozenset(names - bound - _TYPE_NAMES)
