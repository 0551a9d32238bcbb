"""`schemas.iter_errors`: the problems of inputs that miss their JSON Schema, with messages an end user can
act on (an ``errorMessage`` when the schema has one; a format said by example, never by regex)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import pytest

from workflow_kit.schemas import input_schema, iter_errors, validator_for

CODE = r"^[A-Z]{3}-\d{4}$"

Code = Annotated[str, msgspec.Meta(pattern=CODE, examples=["ABC-1234"], description="Three letters, four digits")]
Described = Annotated[str, msgspec.Meta(pattern=CODE, description="Three capitals, a dash, four digits")]
Bare = Annotated[str, msgspec.Meta(pattern=CODE)]
Said = Annotated[str, msgspec.Meta(pattern=CODE, extra_json_schema={"errorMessage": "Write a code such as ABC-1234"})]


class Box(msgspec.Struct):
    code: Said


class Inputs(msgspec.Struct, kw_only=True):
    code: Code = "ABC-1234"
    described: Described = "ABC-1234"
    bare: Bare = "ABC-1234"
    said: Said = "ABC-1234"
    optional_said: Said | None = None
    said_list: Annotated[list[Bare], msgspec.Meta(extra_json_schema={"errorMessage": "Give codes"})] = []
    said_count: Annotated[int, msgspec.Meta(ge=1, extra_json_schema={"errorMessage": "At least one"})] = 1
    box: Box = msgspec.field(default_factory=lambda: Box(code="ABC-1234"))
    optional_box: Box | None = None
    plain: Annotated[str, msgspec.Meta(min_length=2)] = "ok"
    number: int | None = None


def problems(inputs: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """``{path: (code, message)}``."""
    validator = validator_for(input_schema(Inputs))
    return {".".join(map(str, path)): (code, message) for path, code, message in iter_errors(validator, inputs)}


def test_a_pattern_is_explained_by_its_first_example_never_the_regex() -> None:
    found = problems({"code": "fifteen"})
    assert found == {"code": ("invalid_input", "'fifteen' is not in the expected format, e.g. ABC-1234")}


def test_without_examples_the_description_explains_the_format() -> None:
    assert problems({"described": "x"})["described"][1] == (
        "'x' is not in the expected format: Three capitals, a dash, four digits"
    )


def test_without_examples_or_description_the_format_is_only_named() -> None:
    assert problems({"bare": "x"})["bare"][1] == "'x' is not in the expected format"


@pytest.mark.parametrize("field", ["code", "described", "bare", "said", "optional_said"])
def test_no_message_shows_the_regular_expression(field: str) -> None:
    [(code, message)] = problems({field: "nope"}).values()
    assert code == "invalid_input"
    assert CODE not in message and "^" not in message and "does not match" not in message


def test_an_error_message_in_the_schema_is_the_message() -> None:
    assert problems({"said": "x"}) == {"said": ("invalid_input", "Write a code such as ABC-1234")}
    # ... on the one alternative the value's type fits (an optional input is an anyOf with null)
    assert problems({"optional_said": "x"})["optional_said"][1] == "Write a code such as ABC-1234"
    # ... on a member of a nested object, at that member's path
    assert problems({"box": {"code": "x"}}) == {"box.code": ("invalid_input", "Write a code such as ABC-1234")}
    # ... for any keyword that fails, not only a pattern
    assert problems({"said_count": 0})["said_count"][1] == "At least one"


def test_the_input_an_item_belongs_to_speaks_for_it() -> None:
    assert problems({"said_list": ["ABC-1234", "x"]}) == {"said_list.1": ("invalid_input", "Give codes")}


def test_other_errors_keep_their_messages_codes_and_paths() -> None:
    found = problems({"plain": "x", "number": "two", "box": {}, "extra": 1})
    assert found["plain"][0] == "invalid_input" and "short" in found["plain"][1]
    assert found["number"] == ("invalid_input", "'two' does not match any allowed form (number or null)")
    assert found["box.code"] == ("missing_input", "required, but not given")
    assert found["extra"][0] == "unknown_input"


def test_a_value_of_no_alternatives_type_is_told_the_forms_allowed() -> None:
    assert problems({"said": 5}) == {"said": ("invalid_input", "Write a code such as ABC-1234")}
    assert problems({"optional_said": 5})["optional_said"][1] == "5 does not match any allowed form (string or null)"


def test_an_alternatives_errors_inside_the_value_are_not_reported_at_the_value() -> None:
    # The object fits the Box alternative, but what is wrong is inside it: said of the whole value.
    found = problems({"optional_box": {"code": "x"}})
    assert found == {"optional_box": ("invalid_input", '{"code":"x"} does not match any allowed form (object or null)')}
