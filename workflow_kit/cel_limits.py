"""Bounds on CEL expressions, so a user's expression cannot hang or crash the process that runs it.

cel-python interprets the parse tree recursively and cannot be interrupted, so the bounds are built in:

- at compile time (so at save time): the parse tree may nest `MAX_TREE_DEPTH` levels (about 40
  nested brackets or calls); deeper trees would exhaust the Python stack when evaluated;
- at run time: the bodies of macros (``map``, ``all``, ``exists``...: evaluated once per element)
  may visit `MAX_STEPS` tree nodes in all in one evaluation, so nested macros over big lists stop
  here (a small body over about 2,500 elements is the most), and the evaluation may take at most
  `MAX_SECONDS` (looked at before each body evaluation); ``+`` may not build a string, bytes or list
  longer than `MAX_VALUE_SIZE`, and the result may not hold more than `MAX_VALUE_SIZE` elements and
  characters.

A long evaluation shares the interpreter: past its first `YIELD_AFTER_S`, it pauses `YIELD_FOR_S`
every `YIELD_EVERY_S`, so the process's other threads (another tenant's request, the writer) get the
GIL within a fraction of a millisecond instead of waiting for Python's forced switch (5 ms) at each of
their turns. Short evaluations (nearly all) never pause.

Everything else an expression does is linear in the size of its tree and of its variables (regular
expressions are RE2), so the step budget costs nothing outside macro bodies.

Exceeding a bound raises `CelLimitError`; `expressions` turns it into an `ExpressionError`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Final, cast

import celpy
import lark
from celpy import celtypes
from celpy.evaluation import Activation, Evaluator

MAX_TREE_DEPTH: Final = 400
MAX_STEPS: Final = 100_000
MAX_SECONDS: Final = 2.0
MAX_VALUE_SIZE: Final = 1_000_000
YIELD_AFTER_S: Final = 0.001
YIELD_EVERY_S: Final = 0.0001
YIELD_FOR_S: Final = 0.0001
TOO_DEEP: Final = "the expression is nested too deeply (use fewer nested brackets, calls or operators)"


class CelLimitError(Exception):
    """An expression exceeded a bound. Deliberately not a `CELEvalError`: CEL's ``||``, ``&&`` and
    ``exists`` absorb those, and a bound must stop the whole evaluation."""


def parse(environment: celpy.Environment, source: str) -> lark.Tree[Any]:
    """Compile `source` in `environment`, refusing trees too deep to evaluate. Raises `CelLimitError`
    (and whatever the parser raises for a syntax error)."""
    try:
        tree = environment.compile(source)
    except RecursionError:
        raise CelLimitError(TOO_DEEP) from None
    if _depth(tree) > MAX_TREE_DEPTH:
        raise CelLimitError(TOO_DEEP)
    return tree


def sized(operation: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Wrap ``_+_`` so that concatenation cannot build a value over `MAX_VALUE_SIZE` (doubling a
    string in a nested macro would otherwise take all memory in a few dozen steps)."""

    def apply(left: Any, right: Any) -> Any:
        if isinstance(left, str | bytes | list) and isinstance(right, str | bytes | list):
            size = len(left) + len(right)
            if size > MAX_VALUE_SIZE:
                raise CelLimitError(f"`+` would build a value of {size} elements; the limit is {MAX_VALUE_SIZE}")
        return operation(left, right)

    return apply


def evaluate(ast: lark.Tree[Any], activation: Activation) -> Any:
    """Evaluate a compiled tree as `celpy.Evaluator` does, within the step budget, the time limit and
    the bound on the result's size. Raises `CelLimitError` (and whatever the evaluator raises)."""
    value = _BoundedEvaluator(ast, activation, _Budget()).evaluate()
    _check_size(value)
    return value


class BoundedRunner(celpy.InterpretedRunner):
    """`celpy.InterpretedRunner` within the same bounds (for a program used directly)."""

    def evaluate(self, context: Any) -> celtypes.Value:
        activation = self.new_activation()
        if context:
            activation.identifiers.load_values(context)
        return cast(celtypes.Value, evaluate(self.ast, activation))


class _Budget:
    __slots__ = ("deadline", "left", "pause_at")

    def __init__(self) -> None:
        self.left = MAX_STEPS
        now = time.monotonic()
        self.deadline = now + MAX_SECONDS
        self.pause_at = now + YIELD_AFTER_S

    def spend(self, steps: int) -> None:
        self.left -= steps
        if self.left < 0:
            raise CelLimitError(f"the expression takes more than {MAX_STEPS} evaluation steps")
        now = time.monotonic()
        if now > self.deadline:
            raise CelLimitError(f"the expression takes longer than {MAX_SECONDS:g} seconds")
        if now > self.pause_at:  # let the other threads run (see the module docstring)
            time.sleep(YIELD_FOR_S)
            self.pause_at = time.monotonic() + YIELD_EVERY_S


class _BoundedEvaluator(Evaluator):
    """cel-python's evaluator, whose macro bodies are evaluated within a budget.

    Outside macro bodies, evaluation visits each node of the (bounded) tree at most once, so only the
    bodies are counted: each evaluation of one (once per element) costs its number of nodes. The
    top-level walk runs at cel-python's own speed."""

    def __init__(self, ast: lark.Tree[Any], activation: Activation, budget: _Budget) -> None:
        super().__init__(ast, activation)
        self.budget = budget

    def sub_evaluator(self, ast: lark.Tree[Any]) -> Evaluator:
        return _MacroBody(ast, self.activation, self.budget)


class _MacroBody(_BoundedEvaluator):
    def __init__(self, ast: lark.Tree[Any], activation: Activation, budget: _Budget) -> None:
        super().__init__(ast, activation, budget)
        self.cost = sum(1 for _ in ast.iter_subtrees())

    def evaluate(self, context: Any = None) -> celtypes.Value:
        self.budget.spend(self.cost)
        return super().evaluate(context)


def _depth(tree: lark.Tree[Any]) -> int:
    deepest = 0
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, lark.Tree))
    return deepest


def _check_size(value: Any) -> None:
    """Refuse a result that would expand past `MAX_VALUE_SIZE` when converted to JSON: values in a CEL
    list may be shared, so ``[x, x]`` nested a few times is small in memory but huge once copied."""
    left = MAX_VALUE_SIZE
    stack = [value]
    while stack:
        item = stack.pop()
        left -= len(item) if isinstance(item, str | bytes) else 1
        if left < 0:
            raise CelLimitError(f"the expression's result is larger than {MAX_VALUE_SIZE} elements and characters")
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
