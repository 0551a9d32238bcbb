"""``!ref($...)`` references: scanning, compiling and interpolation (workflow_kit/refs.py)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from workflow_kit import refs
from workflow_kit.errors import RefError


@pytest.fixture
def context() -> dict[str, Any]:
    return {
        "event": {
            "name": "app/order.created",
            "data": {
                "n": 5,
                "f": 1.5,
                "yes": True,
                "no": False,
                "nothing": None,
                "s": "hello",
                "a": "A",
                "b": "B",
                "tags": ["x", "y"],
                "profile": {"email": "ann@example.com", "age": 30},
                "items": [
                    {"name": "a)b", "sku": "A", "qty": 2},
                    {"name": "c", "sku": "B", "qty": 1},
                    {"name": "d", "sku": "C", "qty": 3},
                ],
            },
        },
        "state": {
            "step-1": {"x": 7},
            "1": {"result": "first"},
            "fetch": {"total": 10, "rows": [{"id": 1}, {"id": 2}]},
        },
    }


# --- scan -----------------------------------------------------------------------------------------


def test_scan_finds_every_ref_with_positions() -> None:
    text = "Hi !ref($.event.data.a), bye !ref($.event.data.b)!"
    spans = refs.scan(text)
    assert [s.path for s in spans] == ["$.event.data.a", "$.event.data.b"]
    for span in spans:
        assert text[span.start : span.end] == span.text == f"!ref({span.path})"


def test_scan_without_refs_is_empty() -> None:
    assert refs.scan("no references here (at all)") == []


@pytest.mark.parametrize(
    "path",
    [
        "$.event.data.items[?@.name == 'a)b']",
        '$.event.data.items[?@.name == "a)b"]',
        "$.event.data.items[?@.name == 'a(b']",
        "$.event.data.items[?@.name == 'it\\'s )']",
        "$.event.data.items[?length(@.name) > 1]",
        "$.state['a)b'].x",
    ],
)
def test_scan_balances_parentheses_and_skips_quoted_strings(path: str) -> None:
    text = f"before !ref({path}) after"
    spans = refs.scan(text)
    assert len(spans) == 1
    assert spans[0].path == path
    assert text[spans[0].end :] == " after"


def test_scan_strips_whitespace_inside_the_parentheses() -> None:
    (span,) = refs.scan("!ref(  $.event.data.n  )")
    assert span.path == "$.event.data.n"


@pytest.mark.parametrize("text", ["!ref($.a", "x !ref($.a[?@.b == 'c)'] y", "ok !ref($.a) then !ref($.b"])
def test_scan_unterminated_ref_raises(text: str) -> None:
    with pytest.raises(RefError, match="unterminated"):
        refs.scan(text)


@pytest.mark.parametrize("text", ["!ref(state.x)", "!ref(event.data.n)", "x !ref() y"])
def test_scan_ref_without_dollar_raises(text: str) -> None:
    with pytest.raises(RefError, match=r"\$") as info:
        refs.scan(text)
    assert info.value.ref.startswith("!ref(")
    assert info.value.code == "ref_error"


# --- whole_ref ------------------------------------------------------------------------------------


def test_whole_ref_returns_span_for_exactly_one_ref() -> None:
    span = refs.whole_ref("!ref($.event.data.n)")
    assert span is not None
    assert span.path == "$.event.data.n"
    assert (span.start, span.end) == (0, len("!ref($.event.data.n)"))


@pytest.mark.parametrize(
    "text",
    [
        "plain",
        " !ref($.a)",
        "!ref($.a) ",
        "x !ref($.a)",
        "!ref($.a)x",
        "!ref($.a)!ref($.b)",
        "!ref($.a) and !ref($.b)",
    ],
)
def test_whole_ref_is_none_for_anything_else(text: str) -> None:
    assert refs.whole_ref(text) is None


# --- interpolate: whole-string refs keep their JSON type ------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected", "expected_type"),
    [
        ("$.event.data.n", 5, int),
        ("$.event.data.f", 1.5, float),
        ("$.event.data.yes", True, bool),
        ("$.event.data.no", False, bool),
        ("$.event.data.nothing", None, type(None)),
        ("$.event.data.s", "hello", str),
        ("$.event.data.tags", ["x", "y"], list),
        ("$.event.data.profile", {"email": "ann@example.com", "age": 30}, dict),
        ("$.event.data.items[1].sku", "B", str),
        ("$.event.data.items[-1].qty", 3, int),
    ],
)
def test_whole_string_ref_keeps_json_type(
    context: dict[str, Any], path: str, expected: Any, expected_type: type
) -> None:
    result = refs.interpolate(f"!ref({path})", context)
    assert result == expected
    assert type(result) is expected_type


def test_whole_string_ref_with_inner_whitespace_is_still_whole(context: dict[str, Any]) -> None:
    assert refs.interpolate("!ref( $.event.data.n )", context) == 5


def test_whole_string_ref_matching_nothing_is_none(context: dict[str, Any]) -> None:
    assert refs.interpolate("!ref($.event.data.missing)", context) is None
    assert refs.interpolate("!ref($.state.skipped.output)", context) is None


# --- interpolate: embedded refs render into the string --------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi !ref($.event.data.s)!", "Hi hello!"),
        ("n=!ref($.event.data.n)", "n=5"),
        ("f=!ref($.event.data.f)", "f=1.5"),
        ("yes=!ref($.event.data.yes)", "yes=true"),
        ("no=!ref($.event.data.no)", "no=false"),
        ("null=!ref($.event.data.nothing)", "null=null"),
        ("tags=!ref($.event.data.tags)", 'tags=["x","y"]'),
        ("p=!ref($.event.data.profile)", 'p={"email":"ann@example.com","age":30}'),
        ("!ref($.event.data.a) and !ref($.event.data.b)", "A and B"),
        ("!ref($.event.data.a)!ref($.event.data.b)", "AB"),
        ("  !ref($.event.data.n)", "  5"),
        ("!ref($.event.data.n)  ", "5  "),
        (" !ref($.event.data.s) ", " hello "),
    ],
)
def test_embedded_refs_render_into_the_string(context: dict[str, Any], text: str, expected: str) -> None:
    assert refs.interpolate(text, context) == expected


def test_embedded_string_value_is_not_json_quoted(context: dict[str, Any]) -> None:
    result = refs.interpolate("<!ref($.event.data.s)>", context)
    assert result == "<hello>"
    assert '"' not in result


def test_embedded_ref_matching_nothing_raises_naming_the_ref(context: dict[str, Any]) -> None:
    with pytest.raises(RefError) as info:
        refs.interpolate("Hello !ref($.event.data.missing)!", context)
    message = str(info.value)
    assert "!ref($.event.data.missing)" in message
    assert info.value.ref == "!ref($.event.data.missing)"
    assert "undefined" not in message.lower()


def test_embedded_ref_matching_nothing_raises_even_after_a_good_ref(context: dict[str, Any]) -> None:
    with pytest.raises(RefError, match=r"!ref\(\$\.state\.nope\.x\)") as info:
        refs.interpolate("!ref($.event.data.a) then !ref($.state.nope.x)", context)
    assert "undefined" not in str(info.value).lower()


# --- bracket paths and TypeScript-kit dotted names -------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.state['step-1'].x", 7),
        ('$.state["step-1"].x', 7),
        ("$['state']['fetch']['total']", 10),
        ("$.state['1'].result", "first"),
        ("$.state.1.result", "first"),
        ("$.state.step-1.x", 7),
        ("$.state.step-1", {"x": 7}),
        ("$.state.step-1['x']", 7),
        ("$.state..step-1", [{"x": 7}]),
    ],
)
def test_bracket_and_typescript_dotted_paths(context: dict[str, Any], path: str, expected: Any) -> None:
    assert refs.interpolate(f"!ref({path})", context) == expected


def test_typescript_dotted_names_in_embedded_refs(context: dict[str, Any]) -> None:
    text = "!ref($.state.1.result) / !ref($.state.step-1.x)"
    assert refs.interpolate(text, context) == "first / 7"


@pytest.mark.parametrize(
    ("loose", "quoted"),
    [
        ("$.state.1.result", "$.state['1'].result"),
        ("$.state.step-1", "$.state['step-1']"),
        ("$.state.step-1.x", "$.state['step-1'].x"),
    ],
)
def test_typescript_dotted_names_compile_like_quoted_names(loose: str, quoted: str) -> None:
    a, b = refs.compile_ref(loose), refs.compile_ref(quoted)
    assert a.prefix == b.prefix
    assert a.singular is b.singular is True
    assert a.path == loose  # the text the user wrote is kept


# --- queries that can match several values always give a list -------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("$.event.data.items[*].sku", ["A", "B", "C"]),
        ("$.event.data.items[?@.qty > 1].sku", ["A", "C"]),
        ("$.event.data.items[?@.qty > 2].sku", ["C"]),
        ("$.event.data.items[?@.qty > 9].sku", []),
        ("$.event.data.items[?@.name == 'a)b'].qty", [2]),
        ("$.event.data..sku", ["A", "B", "C"]),
        ("$.event.data.items[0:2].sku", ["A", "B"]),
        ("$.event.data.items[0:1].sku", ["A"]),
        ("$.event.data.items[5:9]", []),
        ("$.event.data.items[0,2].sku", ["A", "C"]),
        ("$.event.data.profile.*", ["ann@example.com", 30]),
        ("$.state.fetch.rows[*].id", [1, 2]),
        ("$.event.data.missing[*]", []),
        ("$..nope", []),
    ],
)
def test_non_singular_query_always_yields_a_list(context: dict[str, Any], path: str, expected: list[Any]) -> None:
    result = refs.interpolate(f"!ref({path})", context)
    assert isinstance(result, list)
    assert result == expected


def test_embedded_non_singular_query_renders_a_json_list(context: dict[str, Any]) -> None:
    assert refs.interpolate("skus: !ref($.event.data.items[*].sku)", context) == 'skus: ["A","B","C"]'
    assert refs.interpolate("none: !ref($.event.data.items[?@.qty > 9])", context) == "none: []"


# --- recursion, no mutation, pass-through -----------------------------------------------------------


def test_interpolate_recurses_into_dicts_and_lists_without_mutating(context: dict[str, Any]) -> None:
    value = {
        "to": "!ref($.event.data.profile.email)",
        "subject": "Order of !ref($.event.data.n) items",
        "nested": {"list": ["!ref($.event.data.n)", "plain", 3, {"deep": "!ref($.state.step-1.x)"}]},
        "count": 4,
        "flag": None,
    }
    original = copy.deepcopy(value)
    context_before = copy.deepcopy(context)

    result = refs.interpolate(value, context)

    assert result == {
        "to": "ann@example.com",
        "subject": "Order of 5 items",
        "nested": {"list": [5, "plain", 3, {"deep": 7}]},
        "count": 4,
        "flag": None,
    }
    assert value == original
    assert context == context_before
    assert result is not value
    assert result["nested"] is not value["nested"]


@pytest.mark.parametrize("value", ["plain text", "", "ref($.a)", "!REF($.a)", 0, 3.5, True, False, None])
def test_non_ref_values_pass_through(context: dict[str, Any], value: Any) -> None:
    result = refs.interpolate(value, context)
    assert result == value
    assert type(result) is type(value)


def test_interpolate_string_matches_interpolate(context: dict[str, Any]) -> None:
    assert refs.interpolate_string("!ref($.event.data.n)", context) == 5
    assert refs.interpolate_string("n !ref($.event.data.n)", context) == "n 5"


def test_interpolate_with_invalid_ref_raises(context: dict[str, Any]) -> None:
    with pytest.raises(RefError):
        refs.interpolate({"x": ["!ref(state.x)"]}, context)


# --- compile_ref ------------------------------------------------------------------------------------


def test_compile_ref_is_cached() -> None:
    first = refs.compile_ref("$.event.data.cached_one")
    assert refs.compile_ref("$.event.data.cached_one") is first
    assert refs.compile_ref("$.event.data.cached_two") is not first


@pytest.mark.parametrize(
    ("path", "singular", "root", "prefix"),
    [
        ("$.event.data.n", True, "event", ("event", "data", "n")),
        ("$.state['step-1'].x", True, "state", ("state", "step-1", "x")),
        ("$.state.step-1.x", True, "state", ("state", "step-1", "x")),
        ("$.state.1.result", True, "state", ("state", "1", "result")),
        ("$.output", True, "output", ("output",)),
        ("$.event.data.items[0].sku", True, "event", ("event", "data", "items", 0, "sku")),
        ("$.event.data.items[*].sku", False, "event", ("event", "data", "items")),
        ("$.event.data.items[?@.qty > 1]", False, "event", ("event", "data", "items")),
        ("$.event..sku", False, "event", ("event",)),
        ("$.event.data.items[0:2]", False, "event", ("event", "data", "items")),
        ("$", True, None, ()),
        ("$[0].x", True, None, (0, "x")),
    ],
)
def test_compile_ref_exposes_singular_root_and_prefix(
    path: str, singular: bool, root: str | None, prefix: tuple[str | int, ...]
) -> None:
    ref = refs.compile_ref(path)
    assert ref.singular is singular
    assert ref.root == root
    assert ref.prefix == prefix
    assert ref.path == path
    assert ref.text == f"!ref({path})"


@pytest.mark.parametrize("path", ["$.a[", "$.a[?]", "$..", "$.a[1:2:3:4]", "$.a ==", "$['a"])
def test_compile_ref_invalid_jsonpath_raises(path: str) -> None:
    with pytest.raises(RefError, match="invalid JSONPath") as info:
        refs.compile_ref(path)
    assert info.value.ref == f"!ref({path})"


def test_invalid_jsonpath_in_interpolate_raises(context: dict[str, Any]) -> None:
    with pytest.raises(RefError, match="invalid JSONPath"):
        refs.interpolate("x !ref($.a[) y", context)


# --- strings ------------------------------------------------------------------------------------------


def test_strings_yields_ref_bearing_strings_with_paths() -> None:
    value = {
        "a": [{"b": "!ref($.event.data.x)"}, "plain", 1, None],
        "c": "Hello !ref($.event.data.name)",
        "d": {"e": ["no ref", "!ref($.state.s)"]},
        "odd key": "!ref($.event.data.y)",
        "n": 3,
    }
    assert list(refs.strings(value, "inputs")) == [
        ("inputs.a[0].b", "!ref($.event.data.x)"),
        ("inputs.c", "Hello !ref($.event.data.name)"),
        ("inputs.d.e[1]", "!ref($.state.s)"),
        ('inputs["odd key"]', "!ref($.event.data.y)"),
    ]


def test_strings_on_a_single_string_and_on_values_without_refs() -> None:
    assert list(refs.strings("!ref($.a)", "inputs.x")) == [("inputs.x", "!ref($.a)")]
    assert list(refs.strings({"a": ["plain", 1, {"b": None}]}, "inputs")) == []
    assert list(refs.strings(42, "inputs")) == []


def test_strings_with_empty_base_path() -> None:
    assert list(refs.strings({"a": ["!ref($.x)"]}, "")) == [("a[0]", "!ref($.x)")]
