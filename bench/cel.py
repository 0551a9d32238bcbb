"""CEL evaluation cost: workflow_kit/expressions.py over cel-python.

    .venv/bin/python -m bench.cel [--repeat 3000] [--fanout 1000] [--rounds 5]

Per evaluation of five representative expressions (a trigger filter, a wait match, a builtin:if over
state, string functions, a list macro), medians in µs of `--repeat` calls:

- compile: `compile_expression` without its cache (parse and build the program);
- before: the cached program with every variable converted by cel-python's ``json_to_cel`` on each
  call, which is what `expressions.evaluate` did before activations (kept here as the reference);
- dict: `expressions.evaluate` with a plain dict, now: only what the expression reads is converted;
- activation: `expressions.evaluate` with an `Activation` reused across calls (converted once);
- convert before / now: the conversion alone (all variables by json_to_cel; what the expression reads).

Fan-out, medians of `--rounds`: one incoming event matched against `--fanout` open waits (each of a
different run, with its own trigger event, as ``runtime/lifecycle/events_in.py`` does), and against `--fanout`
trigger conditions (50 distinct expressions), before and now.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

from celpy.adapter import json_to_cel
from celpy.evaluation import CELEvalError

from workflow_kit import expressions
from workflow_kit.errors import ExpressionError
from workflow_kit.expressions import Activation, Expression, compile_expression


def make_event(index: int = 0) -> dict[str, Any]:
    """An order webhook of a realistic size: 60 JSON values."""
    return {
        "name": "shop/order.updated",
        "id": f"evt_{index:06d}",
        "ts": 1_700_000_000_000 + index,
        "data": {
            "id": f"ord_{index:06d}",
            "status": "review",
            "tier": "pro",
            "total": 129.5,
            "currency": "EUR",
            "customer": {"id": f"cus_{index}", "email": "Ann.Lee@example.com", "name": "Ann Lee", "country": "DE"},
            "items": [
                {"sku": f"SKU-{i}", "qty": i % 3 + 1, "price": 9.5 + i, "tags": ["gift"] if i % 2 else []}
                for i in range(5)
            ],
            "coupon": None,
            "notes": "Leave at the door — merci!",
        },
    }


STATE: dict[str, Any] = {
    "a": {"total": 12, "rows": [{"id": i, "ok": i % 2 == 0} for i in range(20)]},
    "lookup": {"found": True, "customer": {"segment": "smb", "ltv": 4200.0}},
    "ai": {"text": "A summary of the order. " * 20, "tokens": 312},
}

CASES: list[tuple[str, str, list[str]]] = [
    ("trigger filter", "event.data.status == 'review'", ["event"]),
    ("wait match", "event.data.id == async.data.id", ["event", "async"]),
    ("builtin:if over state", "state.a.total > 10 && event.data.tier in ['pro','team']", ["event", "state"]),
    (
        "string functions",
        "event.data.customer.email.endsWith('@example.com') && event.data.customer.name.startsWith('Ann') "
        "&& size(event.data.notes) > 3",
        ["event"],
    ),
    ("list macro", "event.data.items.exists(i, i.qty > 2 && i.price > 10.0)", ["event"]),
]


def before_evaluate(expression: Expression, variables: Mapping[str, Any]) -> Any:
    """`expressions.evaluate` as it was: the whole activation through json_to_cel on every call."""
    activation = {name: json_to_cel(value) for name, value in variables.items()}
    try:
        result = expression.program.evaluate(activation)
    except CELEvalError as exc:
        raise ExpressionError(expression.source, str(exc)) from None
    if isinstance(result, CELEvalError):
        raise ExpressionError(expression.source, str(result))
    return expressions.to_json(result)


def median_us(fn: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - started)
    return statistics.median(samples) / 1000


def median_ms(fn: Callable[[], object], rounds: int) -> float:
    return median_us(fn, rounds) / 1000


def per_evaluation(repeat: int) -> None:
    event, incoming = make_event(1), make_event(1)
    everything = {"event": event, "async": incoming, "state": STATE}
    print(f"per evaluation, medians of {repeat} calls, µs")
    head = ("case", "compile", "before", "dict", "activation", "convert before", "convert now")
    print(f"  {head[0]:<24}" + "".join(f"{h:>16}" for h in head[1:]))
    for label, source, names in CASES:
        row = measure({name: everything[name] for name in names}, compile_expression(source), repeat)
        print(f"  {label:<24}" + "".join(f"{value:>16.1f}" for value in row))


def measure(variables: dict[str, Any], expression: Expression, repeat: int) -> tuple[float, ...]:
    shared = Activation(variables)
    results = {before_evaluate(expression, variables), expressions.evaluate(expression, shared)}
    assert results == {True}, (expression.source, results)
    uses = expression.uses
    return (
        median_us(lambda: compile_expression.__wrapped__(expression.source), max(10, repeat // 10)),
        median_us(lambda: before_evaluate(expression, variables), repeat),
        median_us(lambda: expressions.evaluate(expression, variables), repeat),
        median_us(lambda: expressions.evaluate(expression, shared), repeat),
        median_us(lambda: {n: json_to_cel(v) for n, v in variables.items()}, repeat),
        median_us(lambda: {n: expressions._project(v, uses[n]) for n, v in variables.items()}, repeat),
    )


def fan_out(count: int, rounds: int) -> None:
    incoming = make_event(0)
    triggers = [make_event(i) for i in range(count)]  # each wait's run has its own trigger event
    wait = compile_expression("event.data.id == async.data.id")

    def waits_before() -> int:
        return sum(before_evaluate(wait, {"event": trigger, "async": incoming}) for trigger in triggers)

    def waits_now() -> int:
        shared = Activation({"async": incoming})
        return sum(expressions.evaluate_bool(wait, shared.bind({"event": trigger})) for trigger in triggers)

    conditions = [compile_expression(f"event.data.status == 'review' && event.data.total > {i}.0") for i in range(50)]
    condition_list = [conditions[i % len(conditions)] for i in range(count)]

    def triggers_before() -> int:
        return sum(before_evaluate(c, {"event": incoming}) for c in condition_list)

    def triggers_now() -> int:
        shared = Activation({"event": incoming})
        return sum(expressions.evaluate_bool(c, shared) for c in condition_list)

    assert waits_before() == waits_now() == 1
    assert triggers_before() == triggers_now()
    print(f"one event against {count} open waits / trigger conditions, medians of {rounds} rounds")
    for label, fn in [
        ("waits, before", waits_before),
        ("waits, now", waits_now),
        ("triggers, before", triggers_before),
        ("triggers, now", triggers_now),
    ]:
        ms = median_ms(fn, rounds)
        print(f"  {label:<24}{ms:10.1f} ms {ms * 1000 / count:10.1f} µs per evaluation")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3000)
    parser.add_argument("--fanout", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    per_evaluation(args.repeat)
    fan_out(args.fanout, args.rounds)


if __name__ == "__main__":
    main()
