"""Declared event types: an event's name, the JSON Schema of its ``data`` and realistic examples.

``kit.event_type("blog-post.published", schema=PostEvent, examples=[{"id": 1, ...}])`` tells the editor
what a trigger's event looks like before any was received: a new workflow on that event starts with the
first example as its sample, the ref picker lists the fields (with the example's values, and the
schema's types for fields no example has). Examples are the events' ``data`` objects, checked against
the schema when declared: a bad one is a `ValueError` naming its path (``examples[1].title``).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from . import jsonlimits, paths, schemas

MAX_NAME_LENGTH = 256
MAX_EXAMPLES = 20


@dataclass(frozen=True, eq=False)
class EventType:
    """One declared event: its `name`, what it means, the JSON Schema of its ``data``, and examples
    of that ``data``."""

    name: str
    description: str
    schema: schemas.Schema
    examples: tuple[dict[str, Any], ...]

    @classmethod
    def declare(
        cls,
        name: str,
        *,
        schema: Any = None,
        examples: Sequence[dict[str, Any]] = (),
        description: str = "",
    ) -> EventType:
        """Check and build a declaration; raises `ValueError` (with the path of what is wrong) or
        `TypeError` (a schema that is neither a JSON Schema dict nor a type msgspec can describe)."""
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
            raise ValueError(f"an event type's name must be 1 to {MAX_NAME_LENGTH} characters, got {name!r}")
        if "*" in name:
            raise ValueError(f"event type {name!r}: a declared name names one event, without '*'")
        data_schema = _data_schema(name, schema)
        if isinstance(examples, str | bytes | dict) or len(examples) > MAX_EXAMPLES:
            raise ValueError(f"event type {name!r}: examples must be a list of at most {MAX_EXAMPLES} data objects")
        validator = schemas.validator_for(data_schema)
        checked: list[dict[str, Any]] = []
        for position, example in enumerate(examples):
            where = paths.index("examples", position)
            if not isinstance(example, dict):
                raise ValueError(f"event type {name!r}: {where}: an example is the event's data, a JSON object")
            try:
                jsonlimits.encode(example, where)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"event type {name!r}: {exc}") from None
            for path, _, message in schemas.iter_errors(validator, example):
                raise ValueError(f"event type {name!r}: {paths.join(where, path)}: {message}")
            checked.append(copy.deepcopy(example))
        return cls(name=name, description=description or "", schema=data_schema, examples=tuple(checked))

    def public(self) -> dict[str, Any]:
        """The JSON the editor gets: name, description, the data's schema and the examples."""
        return {
            "name": self.name,
            "description": self.description,
            "schema": copy.deepcopy(self.schema),
            "examples": copy.deepcopy(list(self.examples)),
        }


def _data_schema(name: str, schema: Any) -> schemas.Schema:
    if schema is None:
        return {"type": "object"}
    if isinstance(schema, dict):
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:  # say where, not the whole schema
            where = paths.join("schema", exc.path)
            raise ValueError(f"event type {name!r}: {where}: not a valid JSON Schema: {exc.message}") from None
        return copy.deepcopy(schema)
    try:
        return schemas.type_schema(schema)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"event type {name!r}: the schema must be a JSON Schema dict or a type such as a msgspec Struct: {exc}"
        ) from None


class EventTypeRegistry:
    """The event types a kit declares, by name."""

    def __init__(self) -> None:
        self._types: dict[str, EventType] = {}

    def register(self, event_type: EventType) -> None:
        if event_type.name in self._types:
            raise ValueError(f"duplicate event type {event_type.name!r}: it is already declared")
        self._types[event_type.name] = event_type

    def get(self, name: str) -> EventType | None:
        return self._types.get(name)

    def __iter__(self) -> Iterator[EventType]:
        return iter(self._types.values())

    def __len__(self) -> int:
        return len(self._types)

    def public(self) -> list[dict[str, Any]]:
        return [event_type.public() for event_type in self._types.values()]
