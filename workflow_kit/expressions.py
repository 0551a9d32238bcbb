"""CEL expressions (cel-python): compiled once and cached; errors carry the expression and position.

Variables are plain JSON values; results come back as plain JSON values too. Which variables an
expression may use depends on where it stands (``event`` and ``state`` in conditions; ``event`` and
``async`` in waits), and `check` rejects any other name at save time.

Converting JSON to CEL values costs as much as evaluating, so it is done lazily and only for what an
expression can observe: `Activation` converts each variable once and shares it across evaluations (one
event matched against many triggers or waits), and an expression that reads ``state.a.total`` gets a
``state`` holding only ``a`` with ``total`` (see `Expression.uses`).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any, TypeAlias

import celpy
import msgspec
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.celparser import CELParseError
from celpy.evaluation import Activation as CelActivation
from celpy.evaluation import CELEvalError, base_functions
from lark import Token, Tree

from . import cel_grammar, cel_limits
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
cel_grammar.preload(cel_limits.BoundedRunner.tree_node_class)
_ENV = celpy.Environment(runner_class=cel_limits.BoundedRunner)
_COMPILE_LOCK = threading.Lock()  # cel-python shares one Lark parser per process

Projection: TypeAlias = "frozenset[tuple[str, Projection]] | None"
"""What an expression can observe of a JSON value: None for all of it, else the map keys it selects
(``.name``), each with what it observes of that key's value."""


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
_FUNCTIONS["_+_"] = cel_limits.sized(_FUNCTIONS["_+_"])
# What `celpy.Runner.evaluate` builds on every call (the environment's annotations and our functions),
# built once; each evaluation clones it and loads its variables, as the runner does.
_BASE_ACTIVATION = CelActivation(package=_ENV.package, annotations=_ENV.annotations, functions=_FUNCTIONS)


@dataclass(frozen=True, slots=True)
class Expression:
    """A compiled CEL program, the free variable names it reads, and what it can observe of each
    name that could be a variable (`Projection` by root identifier)."""

    source: str
    program: celpy.Runner
    names: frozenset[str]
    uses: Mapping[str, Projection]


@lru_cache(maxsize=2048)
def compile_expression(source: str) -> Expression:
    """Compile (cached). Raises `ExpressionError` with the line and column of a syntax error."""
    if not source.strip():
        raise ExpressionError(source, "the expression is empty")
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(source[:60] + "...", f"the expression is longer than {MAX_EXPRESSION_LENGTH} characters")
    with _COMPILE_LOCK:
        try:
            tree = cel_limits.parse(_ENV, source)
        except CELParseError as exc:
            raise ExpressionError(source, "syntax error", line=exc.line, column=exc.column) from None
        except cel_limits.CelLimitError as exc:
            raise ExpressionError(source, str(exc)) from None
        program = _ENV.program(tree, functions=_FUNCTIONS)
    return Expression(source, program, _free_names(tree), _uses(tree))


def check(source: str, variables: Collection[str]) -> Expression:
    """Compile and check that the expression reads only the given variables."""
    expression = compile_expression(source)
    unknown = sorted(expression.names - set(variables))
    if unknown:
        allowed = ", ".join(sorted(variables))
        raise ExpressionError(source, f"unknown variable {unknown[0]!r} (available: {allowed})")
    return expression


class Activation:
    """Variables (JSON values) for evaluating many expressions: each is converted to CEL at most once.

    Pass one to `evaluate` instead of a mapping: ``Activation({"event": event})`` matches one event
    against every trigger's condition; ``bind`` adds what differs per evaluation (each wait's ``event``)
    and shares this one's conversions (the incoming ``async``). The values must not change while the
    activation is in use.

    An activation remembers what each expression gave on it (a value or an `ExpressionError`):
    evaluating the same expression again costs nothing. Received events are decided this way before
    their write transaction (`runtime/lifecycle/decide.py`): the transaction replays the results."""

    __slots__ = ("_converted", "_inherited", "_prepared", "_results", "_values")

    def __init__(self, variables: Mapping[str, Any]) -> None:
        self._values = dict(variables)
        self._inherited: dict[str, Activation] = {}  # a name bound by a parent, and that parent
        self._converted: dict[tuple[str, Projection], Any] = {}
        self._prepared: dict[tuple[tuple[str, Projection], ...], CelActivation] = {}
        self._results: dict[str, Any] = {}  # by source: the JSON value, or the ExpressionError raised

    def evaluated(self, source: str) -> bool:
        """Whether `source` was evaluated on this activation (evaluating it again replays its result)."""
        return source in self._results

    def bind(self, variables: Mapping[str, Any]) -> Activation:
        """A new activation with these variables added (or replaced), sharing this one's conversions."""
        child = Activation(variables)
        owners = {**self._inherited, **dict.fromkeys(self._values, self)}
        child._inherited = {name: owner for name, owner in owners.items() if name not in child._values}
        return child

    @property
    def variables(self) -> dict[str, Any]:
        """All the variables, as JSON values."""
        inherited = {name: owner._values[name] for name, owner in self._inherited.items()}
        return {**inherited, **self._values}

    def _prepare(self, expression: Expression) -> CelActivation:
        """cel-python's activation for this expression: the variables it can read, as far as it can
        see into them. Raises `ExpressionError` if a value it reads is not JSON or out of CEL's range."""
        uses = expression.uses
        key: list[tuple[str, Projection]] = []
        for names in (self._inherited, self._values):
            for name in names:
                root = name.partition(".")[0]  # cel-python also binds dotted names ("a.b")
                if root in uses:
                    key.append((name, uses[root] if root == name else None))
        prepared_key = tuple(key)
        prepared = self._prepared.get(prepared_key)
        if prepared is None:
            prepared = _BASE_ACTIVATION.clone()
            for name, projection in prepared_key:
                owner = self if name in self._values else self._inherited[name]
                try:
                    prepared.identifiers.load_values({name: owner._convert(name, projection)})
                except (ValueError, TypeError) as exc:
                    raise ExpressionError(expression.source, f"variable {name!r} cannot be read: {exc}") from None
                except RecursionError:
                    message = f"variable {name!r} cannot be read: it is nested too deeply"
                    raise ExpressionError(expression.source, message) from None
            self._prepared[prepared_key] = prepared
        return prepared

    def _convert(self, name: str, projection: Projection) -> Any:
        key = (name, projection)
        try:
            return self._converted[key]
        except KeyError:
            value = self._converted[key] = _project(self._values[name], projection)
            return value


def evaluate(source: str | Expression, variables: Mapping[str, Any] | Activation) -> Any:
    """Evaluate with JSON-valued variables (or an `Activation` of them); returns a JSON value.
    Raises `ExpressionError`."""
    text = source.source if isinstance(source, Expression) else source
    if isinstance(variables, Activation) and text in variables._results:
        remembered = variables._results[text]
        if isinstance(remembered, ExpressionError):
            raise remembered
        return remembered
    scope = variables if isinstance(variables, Activation) else Activation(variables)
    try:
        value = _evaluate(source, scope)
    except ExpressionError as exc:
        scope._results[text] = exc
        raise
    scope._results[text] = value
    return value


def _evaluate(source: str | Expression, scope: Activation) -> Any:
    expression = source if isinstance(source, Expression) else compile_expression(source)
    activation = scope._prepare(expression)
    try:
        result = cel_limits.evaluate(expression.program.ast, activation)
    except CELEvalError as exc:
        raise ExpressionError(expression.source, _eval_message(exc)) from None
    except (TypeError, ValueError, ArithmeticError, KeyError) as exc:  # cel-python leaks a few of these
        raise ExpressionError(expression.source, str(exc)) from None
    except cel_limits.CelLimitError as exc:
        raise ExpressionError(expression.source, str(exc)) from None
    except RecursionError:  # a value nested deeply (in a variable or built by the expression)
        raise ExpressionError(expression.source, "a value is nested too deeply to evaluate") from None
    failed = _first_error(result)
    if failed is not None:
        raise ExpressionError(expression.source, _eval_message(failed))
    return to_json(result)


def _first_error(value: Any) -> CELEvalError | None:
    """The error a result holds, at any depth: cel-python keeps an error raised inside a map or list
    literal (``{"data": body.missing}``) as a value instead of failing the whole expression."""
    if isinstance(value, CELEvalError):
        return value
    if isinstance(value, celtypes.MapType | dict):
        items: Any = value.values()
    elif isinstance(value, celtypes.ListType | list | tuple):
        items = value
    else:
        return None
    for item in items:
        found = _first_error(item)
        if found is not None:
            return found
    return None


def evaluate_bool(source: str | Expression, variables: Mapping[str, Any] | Activation) -> bool:
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


def _project(value: Any, projection: Projection) -> Any:
    """The CEL value of what `projection` observes of a JSON value: a map holds only the selected keys."""
    if projection is None or type(value) is not dict:
        return _to_cel(value)
    return _cel_map({_new_string(key): _project(value[key], sub) for key, sub in projection if key in value})


def _to_cel(value: Any) -> Any:
    """`celpy.adapter.json_to_cel`, the same values, faster: plain JSON types without the checks and
    wrappers of the CEL types' constructors; anything else goes to json_to_cel."""
    kind = type(value)
    if kind is str:
        return _new_string(value)
    if kind is dict:
        return _cel_map({_to_cel(key): _to_cel(item) for key, item in value.items()})
    if kind is int:
        if -(2**63) <= value < 2**63:
            return int.__new__(celtypes.IntType, value)
        raise ValueError("overflow")  # as celtypes.IntType says
    if value is None:
        return None
    if kind is list:
        return celtypes.ListType([_to_cel(item) for item in value])
    if kind is bool:
        return int.__new__(celtypes.BoolType, value)
    if kind is float:
        return float.__new__(celtypes.DoubleType, value)
    return json_to_cel(value)


def _new_string(value: str) -> celtypes.StringType:
    return str.__new__(celtypes.StringType, value)


def _cel_map(items: dict[Any, Any]) -> celtypes.MapType:
    mapping = celtypes.MapType()
    dict.update(mapping, items)  # MapType(items) copies key by key in Python
    return mapping


def _eval_message(exc: CELEvalError) -> str:
    message = str(exc.args[0]) if exc.args else str(exc)
    if "undeclared reference to" in message:  # cel-python appends the whole activation
        message = message.split(" (in activation", 1)[0]
    return message[:300]


def _free_names(tree: Tree[Token]) -> frozenset[str]:
    names: set[str] = set()
    bound: set[str] = set()
    for node in tree.iter_subtrees():
        if node.data in ("ident", "dot_ident"):
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


def _uses(tree: Tree[Token]) -> dict[str, Projection]:
    """For every identifier in the expression, what it can observe of a variable of that name.

    A name whose every occurrence starts a chain of field selections (``state.a.total``, ``state.b``)
    sees only those fields: the value of ``a.total`` and of ``b``, and whether they are present. Any
    other occurrence (bare, a method's receiver, indexed, a macro variable, a field or function name,
    ``.name``) sees all of it."""
    counts: dict[str, int] = {}
    for token in tree.scan_values(lambda v: isinstance(v, Token) and v.type == "IDENT"):
        counts[str(token)] = counts.get(str(token), 0) + 1
    chains: dict[str, list[tuple[str, ...]]] = {}
    stack = [tree]
    while stack:
        node = stack.pop()
        chain = _selection_chain(node)
        if chain is None:
            stack.extend(child for child in node.children if isinstance(child, Tree))
        else:
            chains.setdefault(chain[0], []).append(chain[1:])
    return {
        name: _projection(chains[name]) if len(chains.get(name, ())) == count else None
        for name, count in counts.items()
    }


def _selection_chain(node: Tree[Token]) -> tuple[str, ...] | None:
    """``(name, field, field...)`` if the node is an identifier followed by field selections."""
    fields: list[str] = []
    while True:
        if node.data == "member_dot":
            member, field = node.children
            if not isinstance(member, Tree):
                return None
            fields.append(str(field))
            node = member
        elif node.data in ("member", "primary") and len(node.children) == 1 and isinstance(node.children[0], Tree):
            node = node.children[0]
        elif node.data == "ident":
            return (str(node.children[0]), *reversed(fields))
        else:
            return None


def _projection(paths: list[tuple[str, ...]]) -> Projection:
    if () in paths:
        return None
    heads = dict.fromkeys(path[0] for path in paths)
    return frozenset((head, _projection([path[1:] for path in paths if path[0] == head])) for head in heads)
