"""Index keys for waits, so an incoming event finds the waits it can resolve without scanning them all.

A wait's CEL ``if`` usually pins one field of the awaited event to a value known when the wait opens:
``event.data.id == async.data.id`` (Inngest's ``match: "data.id"``) or ``async.data.user == 'ann'``.
When the expression is a conjunction (``&&``) with such a term at its top level, any matching event
must carry that value at that path. The wait is stored with a key: a digest of the path and the value.
An incoming event computes the keys of its own scalar fields and looks those up through an index, plus
the waits that have no key. The full expression is still evaluated on every candidate, so the key only
narrows the search: it never decides a match.

Values are keyed as our CEL compares them: numbers by value (``1 == 1.0``, JSON has one number type;
cel-python also finds ``true == 1``, so booleans are keyed as 0 and 1), strings exactly, null as
itself; lists and maps never give a key.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import celpy
from celpy import celtypes
from celpy.celparser import CELParseError
from lark import Token, Tree

MAX_EVENT_KEYS = 256
"""An incoming event with more scalar fields than this is matched against every open wait of its name."""
MAX_DEPTH = 8
_PARSER_LOCK = threading.Lock()
_ENV = celpy.Environment()
_MISSING = object()


@dataclass(frozen=True, slots=True)
class KeyTerm:
    """``async.<path> == <value>``: the value is a literal, or a path into the trigger ``event``."""

    path: tuple[str, ...]
    literal: Any = _MISSING
    event_path: tuple[str, ...] | None = None


def wait_key(if_exp: str | None, trigger: Mapping[str, Any]) -> str | None:
    """The index key of a wait with this expression, opened by a run triggered by `trigger`; None if
    the expression pins no field (the wait is then checked against every event of its name)."""
    if not if_exp:
        return None
    term = key_term(if_exp)
    if term is None:
        return None
    value = _lookup(trigger, term.event_path) if term.event_path is not None else term.literal
    return _digest(term.path, value)


def event_keys(event: Mapping[str, Any]) -> list[str] | None:
    """The keys an incoming event can match: one per scalar field. None if it has too many fields
    (then every wait of its name is a candidate)."""
    keys = []
    for path, value in _scalars(event, ()):
        key = _digest(path, value)
        if key is not None:
            keys.append(key)
            if len(keys) > MAX_EVENT_KEYS:
                return None
    return keys


@lru_cache(maxsize=4096)
def key_term(if_exp: str) -> KeyTerm | None:
    """The first top-level ``&&`` term of the form ``async.a.b == <literal or event.x.y>`` (either side)."""
    try:
        with _PARSER_LOCK:
            tree = _ENV.compile(if_exp)
    except CELParseError:
        return None
    for term in _conjuncts(tree):
        found = _equality(term)
        if found is not None:
            return found
    return None


# -- the parse tree ---------------------------------------------------------------------------------


def _conjuncts(tree: Tree[Token]) -> Iterator[Tree[Token]]:
    node = _unwrap(tree, ("expr", "conditionalor"))
    if node is None or node.data != "conditionaland":
        return
    stack = [node]
    while stack:
        current = stack.pop()
        children = [c for c in current.children if isinstance(c, Tree)]
        if current.data == "conditionaland" and len(children) == 2:
            stack.extend(reversed(children))  # left first
        elif current.data == "conditionaland" and len(children) == 1:
            stack.append(children[0])
        else:
            inner = _parenthesized(current)
            if inner is not None:
                yield from _conjuncts(inner)
            else:
                yield current


def _parenthesized(node: Tree[Token]) -> Tree[Token] | None:
    """The expression inside ``( ... )`` when `node` is nothing but that."""
    inner = _unwrap(node, (*_WRAPPERS, "member", "primary"))
    if inner is None or inner.data != "paren_expr":
        return None
    return next((c for c in inner.children if isinstance(c, Tree)), None)


def _unwrap(node: Tree[Token], wrappers: tuple[str, ...]) -> Tree[Token] | None:
    """Step through single-child wrapper rules (the grammar nests a rule per precedence level)."""
    while node.data in wrappers:
        children = [c for c in node.children if isinstance(c, Tree)]
        if len(children) != 1:
            return None
        node = children[0]
    return node


def _equality(term: Tree[Token]) -> KeyTerm | None:
    """``relation(relation_eq(left), right)`` with one side a path from ``async``."""
    if term.data != "relation" or len(term.children) != 2:
        return None
    left_wrap, right = term.children
    if not (isinstance(left_wrap, Tree) and left_wrap.data == "relation_eq" and isinstance(right, Tree)):
        return None
    left = next((c for c in left_wrap.children if isinstance(c, Tree)), None)
    if left is None:
        return None
    for mine, other in ((left, right), (right, left)):
        path = _member_path(mine)
        if path is None or path[0] != "async" or len(path) < 2:
            continue
        other_path = _member_path(other)
        if other_path is not None and other_path[0] == "event" and len(other_path) >= 2:
            return KeyTerm(path=path[1:], event_path=other_path[1:])
        literal = _literal(other)
        if literal is not _MISSING:
            return KeyTerm(path=path[1:], literal=literal)
    return None


_WRAPPERS = ("relation", "addition", "multiplication", "unary", "expr", "conditionalor", "conditionaland")


def _member_path(node: Tree[Token]) -> tuple[str, ...] | None:
    """``a.b.c`` (identifiers and field selections only) as ``("a", "b", "c")``."""
    inner = _unwrap(node, _WRAPPERS)
    if inner is None or inner.data != "member":
        return None
    parts: list[str] = []
    current: Tree[Token] = inner
    while True:
        children = current.children
        if current.data == "member" and len(children) == 1 and isinstance(children[0], Tree):
            current = children[0]
        elif current.data == "member_dot" and len(children) == 2:
            base, name = children
            if not (isinstance(base, Tree) and isinstance(name, Token)):
                return None
            parts.append(str(name))
            current = base
        elif current.data == "primary" and len(children) == 1 and isinstance(children[0], Tree):
            ident = children[0]
            if ident.data != "ident" or not ident.children or not isinstance(ident.children[0], Token):
                return None
            parts.append(str(ident.children[0]))
            return tuple(reversed(parts))
        else:
            return None


def _literal(node: Tree[Token]) -> Any:
    inner = _unwrap(node, _WRAPPERS)
    if inner is None or inner.data != "member":
        return _MISSING
    primary = inner.children[0] if len(inner.children) == 1 else None
    if not (isinstance(primary, Tree) and primary.data == "primary" and len(primary.children) == 1):
        return _MISSING
    literal = primary.children[0]
    if not (isinstance(literal, Tree) and literal.data == "literal" and len(literal.children) == 1):
        return _MISSING
    token = literal.children[0]
    if not isinstance(token, Token):
        return _MISSING
    try:  # let CEL itself read the literal (escapes, raw strings, 1u, 1e3)
        with _PARSER_LOCK:
            value = _ENV.program(_ENV.compile(str(token))).evaluate({})
    except Exception:
        return _MISSING
    return _plain(value)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, celtypes.BoolType):
        return None if value is None else bool(value)
    if isinstance(value, celtypes.IntType | celtypes.UintType):
        return int(value)
    if isinstance(value, celtypes.DoubleType):
        return float(value)
    if isinstance(value, celtypes.StringType):
        return str(value)
    return _MISSING


# -- values -----------------------------------------------------------------------------------------


def _lookup(value: Any, path: tuple[str, ...]) -> Any:
    for part in path:
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _scalars(value: Mapping[str, Any], prefix: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, member in value.items():
        path = (*prefix, str(name))
        if isinstance(member, Mapping):
            if len(path) < MAX_DEPTH:
                yield from _scalars(member, path)
        elif not isinstance(member, list):
            yield path, member


def _digest(path: tuple[str, ...], value: Any) -> str | None:
    if value is _MISSING:
        return None
    if value is None:
        text = "null"
    elif isinstance(value, int | float):  # booleans too: this CEL compares true == 1 as numbers
        try:
            number = float(value)
        except OverflowError:
            return None
        if not math.isfinite(number):
            return None
        text = f"n:{int(number)}" if number.is_integer() and abs(number) < 2**63 else f"n:{number!r}"
    elif isinstance(value, str):
        text = "s:" + value
    else:
        return None
    joined = "\x1f".join(path) + "\x1e" + text
    return hashlib.blake2b(joined.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
