"""Declared event types: a JSON Schema (or a type) for the data, examples checked against it when
declared, one declaration per name, and the catalog the editor gets."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import pytest

from workflow_kit import EventType, WorkflowKit


class PostEvent(msgspec.Struct):
    id: int
    status: str
    tags: list[str] = []


POST_SCHEMA = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "title": {"type": "string"}},
    "required": ["id"],
}


def test_a_json_schema_with_examples_is_declared_and_listed() -> None:
    kit = WorkflowKit()
    declared = kit.event_type(
        "blog-post.published", schema=POST_SCHEMA, examples=[{"id": 1, "title": "Hello"}], description="Published"
    )
    assert isinstance(declared, EventType)
    assert kit.event_types.get("blog-post.published") is declared
    assert kit.public_event_types() == [
        {
            "name": "blog-post.published",
            "description": "Published",
            "schema": POST_SCHEMA,
            "examples": [{"id": 1, "title": "Hello"}],
        }
    ]


def test_a_struct_gives_the_schema() -> None:
    kit = WorkflowKit()
    kit.event_type("post.updated", schema=PostEvent, examples=[{"id": 2, "status": "draft"}])
    [entry] = kit.public_event_types()
    assert entry["schema"]["properties"]["id"] == {"type": "integer"}
    assert entry["schema"]["required"] == ["id", "status"]
    assert entry["description"] == ""


def test_without_a_schema_the_data_is_any_object() -> None:
    declared = EventType.declare("app/ping", examples=[{"anything": [1, 2]}])
    assert declared.schema == {"type": "object"}


@pytest.mark.parametrize(
    ("examples", "path"),
    [
        ([{"id": 1}, {"id": "two"}], "examples[1].id"),
        ([{"title": "no id"}], "examples[0].id"),
        ([{"id": 1, "title": 5}], "examples[0].title"),
    ],
)
def test_a_bad_example_fails_with_its_path(examples: list[dict[str, Any]], path: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"'post': {path}: ")):
        WorkflowKit().event_type("post", schema=POST_SCHEMA, examples=examples)


def test_an_example_of_a_struct_schema_is_checked_too() -> None:
    with pytest.raises(ValueError, match=r"examples\[0\]\.status"):
        EventType.declare("post", schema=PostEvent, examples=[{"id": 1}])


def test_an_example_is_a_data_object() -> None:
    with pytest.raises(ValueError, match=r"examples\[0\]: an example is the event's data"):
        EventType.declare("post", examples=["not an object"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="examples must be a list"):
        EventType.declare("post", examples={"id": 1})  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["", "   ", "a" * 257, "app/*"])
def test_a_bad_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError):
        EventType.declare(name)


def test_a_bad_schema_is_refused() -> None:
    with pytest.raises(ValueError, match="not a valid JSON Schema"):
        EventType.declare("post", schema={"type": "no such type"})
    with pytest.raises(TypeError, match="JSON Schema dict or a type"):
        EventType.declare("post", schema=object())


def test_a_name_is_declared_once() -> None:
    kit = WorkflowKit()
    kit.event_type("post")
    with pytest.raises(ValueError, match="duplicate event type 'post'"):
        kit.event_type("post")


def test_the_examples_are_copies() -> None:
    example = {"id": 1, "tags": ["a"]}
    declared = EventType.declare("post", schema=PostEvent, examples=[{**example, "status": "x"}])
    declared.public()["examples"][0]["tags"].append("b")
    assert declared.examples[0]["tags"] == ["a"]
