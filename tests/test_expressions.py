"""CEL expressions (workflow_kit/expressions.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cel_corpus import EXPRESSIONS, VARIABLES
from celpy.adapter import json_to_cel
from celpy.evaluation import CELEvalError

from workflow_kit import expressions
from workflow_kit.errors import ExpressionError
from workflow_kit.expressions import CONDITION_VARIABLES, check, compile_expression, evaluate, evaluate_bool


@pytest.fixture
def variables() -> dict[str, Any]:
    return {
        "event": {
            "name": "app/order.created",
            "data": {
                "n": 5,
                "price": 10.5,
                "plan": "pro",
                "vip": True,
                "nothing": None,
                "tags": ["a", "b"],
                "profile": {"email": "ann@example.com"},
                "items": [{"sku": "A", "qty": 2}, {"sku": "B", "qty": 1}],
            },
        },
        "state": {"fetch": {"total": 3}},
    }


# --- compiling -------------------------------------------------------------------------------------


def test_compile_expression_is_cached() -> None:
    first = compile_expression("event.data.n > 100")
    assert compile_expression("event.data.n > 100") is first
    assert compile_expression("event.data.n > 101") is not first


def test_compile_expression_records_free_names() -> None:
    compiled = compile_expression("event.data.n > 1 && state.fetch.total == 3")
    assert compiled.source == "event.data.n > 1 && state.fetch.total == 3"
    assert compiled.names == frozenset({"event", "state"})


@pytest.mark.parametrize(
    ("source", "line", "column"),
    [
        ("1 +", 1, 3),
        ("event.data.n >", 1, None),
        ("event.data.n > 1 &&\n(state", 2, None),
        ("'unterminated", 1, None),
        ("a b", 1, None),
    ],
)
def test_syntax_error_carries_expression_line_and_column(source: str, line: int, column: int | None) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expression(source)
    error = info.value
    assert error.expression == source
    assert error.line == line
    assert isinstance(error.column, int)
    if column is not None:
        assert error.column == column
    assert repr(source) in str(error)
    assert f"line {error.line}, column {error.column}" in str(error)
    assert error.code == "invalid_expression"


@pytest.mark.parametrize("source", ["", "   ", "\n\t"])
def test_empty_expression_is_an_error(source: str) -> None:
    with pytest.raises(ExpressionError, match="empty") as info:
        compile_expression(source)
    assert info.value.expression == source


def test_too_long_expression_is_an_error() -> None:
    source = " || ".join(["true"] * 2000)
    assert len(source) > expressions.MAX_EXPRESSION_LENGTH
    with pytest.raises(ExpressionError, match="longer than"):
        compile_expression(source)


# --- check -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "unknown"),
    [
        ("foo == 1", "foo"),
        ("event.data.n > 1 && output == 2", "output"),
        ("steps.a.ok", "steps"),
        ("size(items) > 0", "items"),
    ],
)
def test_check_rejects_unknown_variables(source: str, unknown: str) -> None:
    with pytest.raises(ExpressionError) as info:
        check(source, CONDITION_VARIABLES)
    message = str(info.value)
    assert f"unknown variable {unknown!r}" in message
    assert info.value.expression == source


@pytest.mark.parametrize(
    "source",
    [
        "event.data.n > 1",
        "state.fetch.total == 3 && event.name == 'x'",
        "event.data.items.exists(i, i.qty > 1)",
        "event.data.items.all(item, item.qty >= 1)",
        "event.data.items.exists_one(x, x.sku == 'A')",
        "event.data.items.map(it, it.qty).filter(q, q > 1).size() > 0",
        "size(event.data.items) > 1",
        "has(event.data.x)",
        "type(event.data.n) == int",
        "int(event.data.n) + 1 > 0",
        "string(state.fetch.total) == '3'",
        "event.data.plan.startsWith('p')",
    ],
)
def test_check_accepts_known_variables_macros_and_functions(source: str) -> None:
    compiled = check(source, CONDITION_VARIABLES)
    assert compiled.names <= {"event", "state"}


def test_check_with_other_variable_sets() -> None:
    assert check("async.data.ok == true", ["event", "async"]).names == frozenset({"async"})
    with pytest.raises(ExpressionError, match="'state'"):
        check("state.x == 1", ["event", "async"])


# --- evaluating ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected", "expected_type"),
    [
        ("event.data.vip", True, bool),
        ("event.data.n", 5, int),
        ("event.data.n + 2", 7, int),
        ("event.data.price", 10.5, float),
        ("event.data.plan", "pro", str),
        ("event.data.nothing", None, type(None)),
        ("event.data.tags", ["a", "b"], list),
        ("event.data.profile", {"email": "ann@example.com"}, dict),
        ("event.data.items[0]", {"sku": "A", "qty": 2}, dict),
        ("event.data.items.map(i, i.qty)", [2, 1], list),
        ("{'k': [1, 'two', true, null]}", {"k": [1, "two", True, None]}, dict),
    ],
)
def test_evaluate_returns_plain_json_values(
    variables: dict[str, Any], source: str, expected: Any, expected_type: type
) -> None:
    result = evaluate(source, variables)
    assert result == expected
    assert type(result) is expected_type


def test_evaluate_nested_values_are_exact_builtins(variables: dict[str, Any]) -> None:
    result = evaluate("{'a': [1, 2.5, 'x', true], 'b': {'c': 3}}", variables)
    assert type(result) is dict
    assert all(type(k) is str for k in result)
    assert [type(v) for v in result["a"]] == [int, float, str, bool]
    assert type(result["a"]) is list
    assert type(result["b"]) is dict
    assert type(result["b"]["c"]) is int


def test_evaluate_accepts_a_compiled_expression(variables: dict[str, Any]) -> None:
    compiled = compile_expression("event.data.n * 2")
    assert evaluate(compiled, variables) == 10


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("event.data.plan + '-' + event.name", "pro-app/order.created"),
        ("'Hi ' + event.data.profile.email", "Hi ann@example.com"),
        ("event.data.vip ? 'gold' : 'basic'", "gold"),
        ("event.data.n > 10 ? 'big' : 'small'", "small"),
        ("event.data.vip && event.data.n > 1", True),
        ("event.data.vip && event.data.n > 10", False),
        ("!event.data.vip || event.data.plan == 'pro'", True),
        ("false || false", False),
        ("'a' in event.data.tags", True),
        ("'z' in event.data.tags", False),
        ("'email' in event.data.profile", True),
        ("event.data.plan in ['pro', 'team']", True),
        ("event.data.n >= 5 && event.data.n <= 5", True),
        ("event.data.plan != 'free'", True),
        ("size(event.data.items) == 2", True),
        ("has(event.data.profile.email)", True),
        ("has(event.data.nope)", False),
        ("event.data.items.exists(i, i.qty > 1)", True),
        ("event.data.items.all(i, i.qty > 1)", False),
    ],
)
def test_evaluate_operators(variables: dict[str, Any], source: str, expected: Any) -> None:
    assert evaluate(source, variables) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("event.data.n > 1.5", True),  # JSON int vs double literal
        ("event.data.n < 5.5", True),
        ("event.data.price > 10", True),  # JSON double vs int literal
        ("event.data.price < event.data.n", False),
        ("event.data.n <= 5.0", True),
        ("event.data.n == 5.0", True),
        ("1 < 1.5", True),
        ("2.0 >= 2", True),
    ],
)
def test_evaluate_compares_int_with_float(variables: dict[str, Any], source: str, expected: bool) -> None:
    result = evaluate(source, variables)
    assert result is expected


def test_evaluate_missing_key_raises_with_expression(variables: dict[str, Any]) -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate("event.data.nope == 1", variables)
    assert info.value.expression == "event.data.nope == 1"
    assert "event.data.nope == 1" in str(info.value)
    assert "nope" in str(info.value)


def test_evaluate_undeclared_variable_raises_without_dumping_the_activation(variables: dict[str, Any]) -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate("missing_var == 1", variables)
    assert "missing_var == 1" in str(info.value)
    assert "ann@example.com" not in str(info.value)


@pytest.mark.parametrize("source", ["1 / 0", "event.data.plan + 1", "event.data.items[9]"])
def test_evaluate_runtime_errors_raise_expression_error(variables: dict[str, Any], source: str) -> None:
    with pytest.raises(ExpressionError) as info:
        evaluate(source, variables)
    assert info.value.expression == source
    assert source in str(info.value)


# --- evaluate_bool -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [("event.data.vip", True), ("event.data.n > 10", False), ("true", True), ("!true", False)],
)
def test_evaluate_bool(variables: dict[str, Any], source: str, expected: bool) -> None:
    assert evaluate_bool(source, variables) is expected


@pytest.mark.parametrize("source", ["event.data.n", "1", "event.data.plan", "event.data.nothing", "event.data.tags"])
def test_evaluate_bool_requires_a_bool(variables: dict[str, Any], source: str) -> None:
    with pytest.raises(ExpressionError, match="true or false") as info:
        evaluate_bool(source, variables)
    assert info.value.expression == source


def test_evaluate_bool_with_compiled_expression_names_the_source(variables: dict[str, Any]) -> None:
    compiled = compile_expression("event.data.n + 0")
    with pytest.raises(ExpressionError) as info:
        evaluate_bool(compiled, variables)
    assert info.value.expression == "event.data.n + 0"


def test_evaluate_bool_propagates_evaluation_errors(variables: dict[str, Any]) -> None:
    with pytest.raises(ExpressionError, match="nope"):
        evaluate_bool("event.data.nope == 1", variables)


# --- activations: converting variables once, and only what an expression reads --------------------


def test_activation_evaluates_like_a_mapping(variables: dict[str, Any]) -> None:
    shared = expressions.Activation(variables)
    assert evaluate("event.data.n + state.fetch.total", shared) == 8
    assert evaluate_bool("event.data.plan == 'pro'", shared) is True
    with pytest.raises(ExpressionError, match="nope"):
        evaluate("event.data.nope", shared)
    assert shared.variables == variables


def test_bind_adds_and_replaces_variables_and_keeps_the_parent(variables: dict[str, Any]) -> None:
    incoming = expressions.Activation({"async": {"data": {"id": "o-1"}}, "event": {"data": {"id": "x"}}})
    first = incoming.bind({"event": {"data": {"id": "o-1"}}})
    second = incoming.bind({"event": {"data": {"id": "o-2"}}})
    assert evaluate_bool("event.data.id == async.data.id", first) is True
    assert evaluate_bool("event.data.id == async.data.id", second) is False
    assert evaluate_bool("event.data.id == async.data.id", incoming) is False
    assert first.variables == {"async": {"data": {"id": "o-1"}}, "event": {"data": {"id": "o-1"}}}
    assert first.bind({"state": 1}).variables["async"] == {"data": {"id": "o-1"}}


def test_a_shared_variable_is_converted_once(monkeypatch: pytest.MonkeyPatch) -> None:
    converted: list[Any] = []
    project = expressions._project

    def counting(value: Any, projection: Any) -> Any:
        converted.append(value)
        return project(value, projection)

    monkeypatch.setattr(expressions, "_project", counting)
    incoming_event = {"data": {"id": "o-1"}}
    incoming = expressions.Activation({"async": incoming_event})
    triggers = [{"data": {"id": f"o-{i}"}} for i in range(5)]
    matched = [evaluate_bool("event.data.id == async.data.id", incoming.bind({"event": t})) for t in triggers]
    assert matched == [False, True, False, False, False]
    assert sum(value is incoming_event for value in converted) == 1
    assert [sum(value is t for value in converted) for t in triggers] == [1] * 5


def test_variables_an_expression_does_not_read_are_not_converted() -> None:
    huge = {"n": 2**64, "when": object()}  # neither is a CEL value
    assert evaluate("event.data.ok", {"event": {"data": {"ok": True, "huge": huge}}, "state": huge}) is True
    assert evaluate("state.a", {"event": huge, "state": {"a": 1, "b": huge}}) == 1


def test_a_value_beyond_cel_names_the_variable() -> None:
    # cel-python's ValueError used to escape `evaluate` (and `kit.send`, through a trigger's condition).
    with pytest.raises(ExpressionError, match="variable 'event' cannot be read: overflow") as info:
        evaluate("event.data.n > 0", {"event": {"data": {"n": 2**64}}})
    assert info.value.expression == "event.data.n > 0"
    with pytest.raises(ExpressionError, match="variable 'state' cannot be read: unexpected type"):
        evaluate("state.x == 1", {"state": {"x": object()}})


@pytest.mark.parametrize(
    ("source", "uses"),
    [
        ("event.data.n > 1", {"event": {"data": {"n": None}}, "data": None, "n": None}),
        (
            "state.a.total > 1 && state.b == state.a.rows[0] && has(state.c.d)",
            {"state": {"a": {"total": None, "rows": None}, "b": None, "c": {"d": None}}},
        ),
        ("event.data.items.exists(i, i.qty > 1)", {"event": {"data": {"items": None}}}),
        ("state.a.x == 1 && size(state) > 1", {"state": None}),  # bare: all of it
        ("state.a.x == 1 && state['b'] == 2", {"state": None}),  # indexed: all of it
        ("state.a.exists(k, k == 'x')", {"state": {"a": None}}),  # a method's receiver: all of a
        ("event.data.state", {"event": {"data": {"state": None}}, "state": None}),  # a field named state
        (".state.a", {"state": None}),
        ("event.data.items.exists(event, event.qty > 1)", {"event": None}),  # a macro variable
    ],
)
def test_uses_says_what_an_expression_can_observe(source: str, uses: dict[str, Any]) -> None:
    def as_dict(projection: Any) -> Any:
        return None if projection is None else {key: as_dict(sub) for key, sub in projection}

    found = {name: as_dict(p) for name, p in compile_expression(source).uses.items()}
    assert {name: found[name] for name in uses} == uses


def test_check_rejects_a_leading_dot_variable() -> None:
    with pytest.raises(ExpressionError, match="unknown variable 'state'"):
        check(".state.x == 1", ["event"])
    assert check(".event.data.n == 1", ["event"]).names == frozenset({"event"})


def test_the_corpus_evaluates_as_cel_python_does_with_every_variable_converted() -> None:
    """The reference is cel-python's own runner with every variable through json_to_cel (what
    `evaluate` did before activations): the same values, types and error messages, through a
    mapping and through a shared, bound `Activation`."""

    def reference(source: str) -> Any:
        expression = compile_expression(source)
        try:
            result = expression.program.evaluate({name: json_to_cel(v) for name, v in VARIABLES.items()})
        except CELEvalError as exc:
            raise ExpressionError(source, expressions._eval_message(exc)) from None
        except (TypeError, ValueError, ArithmeticError, KeyError) as exc:
            raise ExpressionError(source, str(exc)) from None
        if isinstance(result, CELEvalError):
            raise ExpressionError(source, expressions._eval_message(result))
        return expressions.to_json(result)

    def typed(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: typed(item) for key, item in value.items()}
        if isinstance(value, list):
            return [typed(item) for item in value]
        return (type(value), value)

    def outcome(run: Callable[..., Any], *args: Any) -> tuple[str, Any]:
        try:
            return ("value", typed(run(*args)))
        except ExpressionError as exc:
            return ("error", str(exc))

    shared = expressions.Activation({"async": VARIABLES["async"]}).bind(
        {"event": VARIABLES["event"], "state": VARIABLES["state"]}
    )
    outcomes = set()
    for source in EXPRESSIONS:
        expected = outcome(reference, source)
        assert outcome(evaluate, source, VARIABLES) == expected, source
        assert outcome(evaluate, source, shared) == expected, source
        outcomes.add(expected[0])
    assert outcomes == {"value", "error"}
    assert len(EXPRESSIONS) > 1000


# --- the condition builder's CEL ------------------------------------------------------------------


@pytest.fixture
def builder_variables() -> dict[str, Any]:
    return {
        "event": {
            "name": "app/post.updated",
            "data": {
                "id": "o-1",
                "title": 'He said "hi"\\ \n ok',
                "status": "published",
                "blank": "",
                "price": 10.5,
                "count": 3,
                "published": True,
                "due": "2026-01-31T10:00:00Z",
                "tags": ["a", "b"],
                "scores": [1, 2.5],
                "none": [],
                "author": {"name": "Ann", "n": [1, None]},
                "extra": None,
                "in": 2,
                "items": [{"sku": "A"}],
            },
        },
        "state": {"add_toc": {"post_id": 4}, "my-step": {"ok": True}},
        "async": {"data": {"id": "o-1", "sent_at": "2026-01-31T09:30:00+01:00"}},
    }


# One example per comparison and type, true and false, written exactly as the builder writes them:
# these texts mirror frontend/src/conditions/cel.ts (and TEMPLATES in frontend/src/conditions/fixtures.ts).
@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # text
        ('event.data.status == "published"', True),
        ('event.data.status == "draft"', False),
        ('event.data.status != "draft"', True),
        ('event.data.status != "published"', False),
        ('event.data.title.contains("hi")', True),
        ('event.data.title.contains("bye")', False),
        ('!event.data.title.contains("bye")', True),
        ('!event.data.title.contains("hi")', False),
        ('event.data.title.startsWith("He said \\"hi\\"")', True),
        ('event.data.title.startsWith("She")', False),
        ('event.data.title.endsWith("\\\\ \\n ok")', True),
        ('event.data.title.endsWith("ko")', False),
        ('event.data.title == "He said \\"hi\\"\\\\ \\n ok"', True),
        ('event.data.title == "He said \\"hi\\"\\\\ \\u000a ok"', True),
        ('event.data.title == "He said \\"hi\\"\\\\ \\u000d ok"', False),
        ("size(event.data.blank) == 0", True),
        ("size(event.data.title) == 0", False),
        ("size(event.data.title) > 0", True),
        ("size(event.data.blank) > 0", False),
        ('event.data.status in ["draft", "published"]', True),
        ('event.data.status in ["draft", "archived"]', False),
        # numbers (a JSON number may be an int or a double; the builder's literals are either)
        ("event.data.price == 10.5", True),
        ("event.data.count == 3", True),
        ("event.data.count != -3", True),
        ("event.data.price != 10.5", False),
        ("event.data.price > 3", True),
        ("event.data.count > 3", False),
        ("event.data.count >= 3", True),
        ("event.data.price >= 11", False),
        ("event.data.price < 1e+21", True),
        ("event.data.count < 0.25", False),
        ("event.data.count <= 3", True),
        ("event.data.price <= 1e-7", False),
        ("double(event.data.price) in [1.0, 10.5]", True),
        ("double(event.data.count) in [1.0, 3.0]", True),
        ("double(state.add_toc.post_id) in [3.0, 4.0]", True),
        ("double(event.data.count) in [1.0, 2.5]", False),
        # yes/no
        ("event.data.published == true", True),
        ("event.data.published == false", False),
        ('state["my-step"].ok == true', True),
        # date-time
        ('timestamp(event.data.due) < timestamp("2026-01-31T11:00:00Z")', True),
        ('timestamp(event.data.due) < timestamp("2026-01-31T09:00:00Z")', False),
        ('timestamp(event.data.due) > timestamp("2026-01-31T09:00:00Z")', True),
        ('timestamp(event.data.due) > timestamp("2026-01-31T11:00:00Z")', False),
        ("timestamp(event.data.due) > timestamp(async.data.sent_at)", True),
        ("timestamp(event.data.due) < timestamp(async.data.sent_at)", False),
        # lists
        ('event.data.tags.exists(item, item == "a")', True),
        ('event.data.tags.exists(item, item == "z")', False),
        ("event.data.scores.exists(item, item == 2.5)", True),
        ("event.data.scores.exists(item, item == 1.0)", True),
        ("event.data.scores.exists(item, item == 2)", False),
        ('!event.data.tags.exists(item, item == "z")', True),
        ('!event.data.tags.exists(item, item == "a")', False),
        ("event.data.tags.exists(item, item == event.data.status)", False),
        ("size(event.data.none) == 0", True),
        ("size(event.data.tags) == 0", False),
        ("size(event.data.tags) > 0", True),
        ("size(event.data.none) > 0", False),
        # any value, objects
        ('event.data.author == {"name": "Ann", "n": [1, null]}', True),
        ("event.data.author != {}", True),
        ("event.data.extra == null", True),
        ('event.data.extra != "x"', True),
        ('event.data["in"] == 2', True),
        ('event.data.items[0].sku == "A"', True),
        # every type: exists / does not exist
        ("has(event.data.title)", True),
        ("has(event.data.missing)", False),
        ("!has(event.data.missing)", True),
        ('!has(state["my-step"].ok)', False),
        # another field, and joins
        ("async.data.id == event.data.id", True),
        ("event.data.title.contains(event.data.id)", False),
        ("event.data.price > state.add_toc.post_id", True),
        ('state.add_toc.post_id > 3 && event.data.status == "published"', True),
        ('state.add_toc.post_id > 4 && event.data.status == "published"', False),
        ('state.add_toc.post_id > 4 || event.data.status == "published"', True),
    ],
)
def test_the_condition_builder_cel_evaluates(builder_variables: dict[str, Any], source: str, expected: bool) -> None:
    check(source, ["event", "state", "async"])
    assert evaluate(source, builder_variables) is expected
