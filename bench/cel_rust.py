"""The Rust-backed CEL package (PyPI ``common-expression-language``, module ``cel``) measured behind
our expression interface, and compared with it on the expression corpus.

    .venv/bin/pip install common-expression-language   # not a dependency of workflow-kit
    .venv/bin/python -m bench.cel_rust [--repeat 3000] [--fanout 1000] [--rounds 5] [--list]

The adapter mirrors workflow_kit/expressions.py: programs compiled once and cached, variables
converted once per activation (a ``cel.Context``), results turned into JSON values as `to_json` does,
any exception an `ExpressionError`. It reports, in µs, the same cases as bench/cel.py (compile;
evaluate with a dict; with a Context of only what the expression reads, built per call; with a
reused Context; building that Context) and the same fan-out, then evaluates every expression of
tests/cel_corpus.py with both backends and counts where they differ: value (with its type) or
error/not-error. `--list` prints each differing expression with both outcomes.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import importlib
import importlib.util
import sys
from collections import Counter
from collections.abc import Callable, Mapping
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

from bench.cel import CASES, STATE, make_event, median_ms, median_us
from workflow_kit import expressions
from workflow_kit.errors import ExpressionError


def load_cel() -> Any:
    try:
        return importlib.import_module("cel")
    except ImportError:
        sys.exit("the package common-expression-language is not installed (pip install common-expression-language)")


def load_corpus() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "tests" / "cel_corpus.py"
    spec = importlib.util.spec_from_file_location("cel_corpus", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class RustBackend:
    """`compile_expression` / `Activation` / `evaluate` over the Rust package."""

    def __init__(self, cel: Any) -> None:
        self.cel = cel
        self.compile = lru_cache(maxsize=2048)(cel.compile)

    def activation(self, variables: Mapping[str, Any]) -> Any:
        return self.cel.Context(dict(variables))

    def projected(self, source: str, variables: Mapping[str, Any]) -> Any:
        """A Context of only what the expression reads (`Expression.uses`, from cel-python's parse),
        as our cel-python layer converts."""
        uses = expressions.compile_expression(source).uses
        return self.cel.Context({n: project(v, uses[n]) for n, v in variables.items() if n in uses})

    def evaluate(self, source: str, variables: Any) -> Any:
        try:
            program = self.compile(source)
            return to_json(program.execute(variables))
        except Exception as exc:  # the package raises ValueError, TypeError, KeyError, RuntimeError...
            raise ExpressionError(source, str(exc)) from None


def project(value: Any, projection: expressions.Projection) -> Any:
    if projection is None or type(value) is not dict:
        return value
    return {key: project(value[key], sub) for key, sub in projection if key in value}


def to_json(value: Any) -> Any:
    """What `expressions.to_json` gives for the same CEL value."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, datetime.timedelta):
        return f"{value.total_seconds():g}s"
    if isinstance(value, dict):
        return {str(to_json(k)): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def speed(rust: RustBackend, repeat: int, count: int, rounds: int) -> None:
    event, incoming = make_event(1), make_event(1)
    everything = {"event": event, "async": incoming, "state": STATE}
    print(f"Rust backend, per evaluation, medians of {repeat} calls, µs")
    head = ("compile", "dict", "projected", "context", "context build")
    print(f"  {'case':<24}" + "".join(f"{h:>14}" for h in head))
    for label, source, names in CASES:
        variables = {name: everything[name] for name in names}
        print(f"  {label:<24}" + "".join(f"{v:>14.1f}" for v in measure(rust, source, variables, repeat)))

    incoming = make_event(0)
    triggers = [make_event(i) for i in range(count)]
    wait = "event.data.id == async.data.id"
    conditions = [f"event.data.status == 'review' && event.data.total > {i}.0" for i in range(50)]

    def waits() -> int:
        return sum(rust.evaluate(wait, rust.activation({"event": t, "async": incoming})) for t in triggers)

    def waits_projected() -> int:
        return sum(rust.evaluate(wait, rust.projected(wait, {"event": t, "async": incoming})) for t in triggers)

    def trigger_conditions() -> int:
        shared = rust.activation({"event": incoming})
        return sum(rust.evaluate(conditions[i % 50], shared) for i in range(count))

    assert waits() == waits_projected() == 1
    print(f"one event against {count} open waits / trigger conditions, medians of {rounds} rounds")
    for label, fn in [("waits", waits), ("waits, projected", waits_projected), ("triggers", trigger_conditions)]:
        ms = median_ms(fn, rounds)
        print(f"  {label:<24}{ms:10.1f} ms {ms * 1000 / count:10.1f} µs per evaluation")


def measure(rust: RustBackend, source: str, variables: dict[str, Any], repeat: int) -> tuple[float, ...]:
    shared = rust.activation(variables)
    assert rust.evaluate(source, shared) is True, source
    return (
        median_us(lambda: rust.cel.compile(source), repeat),
        median_us(lambda: rust.evaluate(source, variables), repeat),
        median_us(lambda: rust.evaluate(source, rust.projected(source, variables)), repeat),
        median_us(lambda: rust.evaluate(source, shared), repeat),
        median_us(lambda: rust.activation(variables), repeat),
    )


def outcome(evaluate: Callable[[], Any]) -> tuple[str, Any]:
    def typed(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: typed(item) for key, item in value.items()}
        if isinstance(value, list):
            return [typed(item) for item in value]
        return (type(value).__name__, value)

    try:
        return ("value", typed(evaluate()))
    except ExpressionError as exc:
        return ("error", exc.reason[:150])


def differential(rust: RustBackend, show: bool) -> None:
    corpus = load_corpus()
    context = rust.activation(corpus.VARIABLES)
    kinds: Counter[str] = Counter()
    for source in corpus.EXPRESSIONS:
        ours = outcome(lambda: expressions.evaluate(source, corpus.VARIABLES))  # noqa: B023
        theirs = outcome(lambda: rust.evaluate(source, context))  # noqa: B023
        if ours[0] != theirs[0]:
            kinds[f"cel-python {ours[0]}, Rust {theirs[0]}"] += 1
        elif ours[0] == "value" and ours != theirs:
            kinds["different values"] += 1
        else:
            continue
        if show:
            print(f"{source!r}\n    cel-python: {ours}\n    Rust:       {theirs}")
    total = sum(kinds.values())
    print(f"differential: {len(corpus.EXPRESSIONS)} expressions, {total} differ: {dict(kinds)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3000)
    parser.add_argument("--fanout", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--list", action="store_true", help="print every expression where the backends differ")
    args = parser.parse_args()
    rust = RustBackend(load_cel())
    speed(rust, args.repeat, args.fanout, args.rounds)
    differential(rust, args.list)


if __name__ == "__main__":
    main()
