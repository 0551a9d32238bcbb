"""Action definitions and the registry: a handler plus typed inputs and outputs.

A handler is ``(ctx, inputs) -> output``, sync or async. Its input annotation (a msgspec Struct, a
TypedDict, a dataclass or ``dict[str, Any]``) and its return annotation (any msgspec-encodable type)
give the JSON Schemas the editor shows, validation checks, and refs into outputs are checked against.
Builtins and user actions are the same thing: the engine knows only this contract.
"""

from __future__ import annotations

import copy
import inspect
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import msgspec
from jsonschema import Draft202012Validator

from . import jsonlimits, paths, schemas
from .connections import credential
from .errors import NonRetriableError
from .events import NUL_MESSAGE, has_nul

Handler = Callable[..., Any]
MAX_RETRIES = 20
MAX_OUTPUT_BYTES = 4 * 1024 * 1024


class InputError(NonRetriableError):
    """An action's inputs, after interpolation, do not match its input schema."""

    code = "invalid_input"


class OutputError(NonRetriableError):
    """A handler returned a value that does not match its declared output type or is not JSON."""

    code = "invalid_output"


@dataclass(frozen=True, slots=True)
class PredefinedEdge:
    """An outgoing edge an action offers in the editor, e.g. builtin:if's ``True`` and ``False``."""

    name: str
    conditional: dict[str, Any] | None = None

    def public(self) -> dict[str, Any]:
        edge: dict[str, Any] = {"name": self.name}
        if self.conditional is not None:
            edge["conditional"] = dict(self.conditional)
        return edge


@dataclass(frozen=True, eq=False)
class ActionDefinition:
    """A registered action: what the engine runs and what the editor shows (`public`, never the handler)."""

    kind: str
    name: str
    handler: Handler
    input_type: Any
    output_type: Any
    description: str = ""
    icon: str | None = None
    edges: tuple[PredefinedEdge, ...] = ()
    allow_add: bool = True
    retries: int | None = None
    """Retries for this action's steps; None means the kit's (or the workflow's) policy."""
    takes_inputs: bool = True
    side_effects: bool = True
    """Whether running it changes something outside the run (sends, writes, charges): the editor asks
    before a test of it, or a test run through it. Builtins that only steer the run say False."""
    input_schema: schemas.Schema = field(default_factory=dict)
    output_schema: schemas.Schema = field(default_factory=dict)

    @classmethod
    def from_handler(
        cls,
        handler: Handler,
        *,
        kind: str,
        name: str | None = None,
        description: str | None = None,
        icon: str | None = None,
        edges: Sequence[PredefinedEdge | dict[str, Any]] = (),
        allow_add: bool = True,
        retries: int | None = None,
        side_effects: bool = True,
        localns: dict[str, Any] | None = None,
    ) -> ActionDefinition:
        """Build a definition from a handler's signature and annotations; raises `TypeError` if unusable.

        `localns` resolves string annotations naming types local to a function (see `WorkflowKit.action`).
        """
        if not isinstance(kind, str) or not kind.strip() or kind == "$source":
            raise ValueError(f"an action kind must be a non-empty string other than '$source', got {kind!r}")
        if retries is not None and not 0 <= retries <= MAX_RETRIES:
            raise ValueError(f"retries for action {kind!r} must be between 0 and {MAX_RETRIES}, got {retries}")
        input_type, output_type, takes_inputs = _signature_types(handler, kind, localns)
        doc = inspect.getdoc(handler) or ""
        return cls(
            kind=kind,
            name=name or kind,
            handler=handler,
            input_type=input_type,
            output_type=output_type,
            description=description if description is not None else doc.split("\n\n", 1)[0],
            icon=icon,
            edges=tuple(e if isinstance(e, PredefinedEdge) else PredefinedEdge(**e) for e in edges),
            allow_add=allow_add,
            retries=retries,
            takes_inputs=takes_inputs,
            side_effects=bool(side_effects),
            input_schema=schemas.input_schema(input_type),
            output_schema=_output_schema(output_type, kind),
        )

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.handler)

    @cached_property
    def input_validator(self) -> Draft202012Validator:
        return schemas.validator_for(self.input_schema)

    def public(self) -> dict[str, Any]:
        """The JSON the editor gets: kind, name, description, icon, schemas, predefined edges and whether
        it has side effects."""
        return {
            "kind": self.kind,
            "name": self.name,
            "description": self.description,
            "icon": self.icon,
            "inputs": copy.deepcopy(self.input_schema),
            "outputs": copy.deepcopy(self.output_schema),
            "edges": {"allow_add": self.allow_add, "edges": [e.public() for e in self.edges]},
            "side_effects": self.side_effects,
        }

    @cached_property
    def _inputs_are_any_object(self) -> bool:
        """The inputs are a free-form mapping (``dict[str, Any]``): any JSON object is valid."""
        schema = {k: v for k, v in self.input_schema.items() if k not in ("title", "description", "$schema")}
        return schemas.is_mapping_type(self.input_type) and schema in ({"type": "object"}, {})

    @cached_property
    def _inputs_are_mapping(self) -> bool:
        return schemas.is_mapping_type(self.input_type)

    @cached_property
    def connections(self) -> dict[str, str]:
        """The inputs that are connections (``Connection["slack"]``), with their type: ``{"slack": "slack"}``."""
        return schemas.connection_fields(self.input_schema)

    def prepare_inputs(self, inputs: dict[str, Any], credentials: Mapping[str, Any] | None = None) -> Any:
        """Validate interpolated inputs against the schema, then convert them to the handler's type, with
        the live `credentials` (by input name) in place of the connections' ids. Without `credentials`,
        the inputs of an action with connection inputs are checked, not converted."""
        if self._inputs_are_any_object and isinstance(inputs, dict):
            return inputs
        problems = [
            f"{paths.join('inputs', p)}: {message}"
            for p, _, message in schemas.iter_errors(self.input_validator, inputs)
        ]
        if problems:
            raise InputError(f"invalid inputs for action {self.kind!r}: " + "; ".join(problems))
        if credentials:
            inputs = {**inputs, **credentials}
        elif credentials is None and self.connections:
            return inputs  # checked only: the live credentials come with a run
        if self._inputs_are_mapping:
            return inputs
        try:
            return msgspec.convert(inputs, self.input_type, strict=False, dec_hook=credential.dec_hook)
        except msgspec.ValidationError as exc:
            raise InputError(f"invalid inputs for action {self.kind!r}: {exc}") from None

    def encode_output(self, value: Any) -> Any:
        """The handler's return value as JSON builtins, checked against the declared output type."""
        try:
            text = jsonlimits.encode(msgspec.to_builtins(value), "output")
            encoded = msgspec.json.decode(text)  # what a replay reads back: tuples and sets become lists
        except (TypeError, ValueError) as exc:  # JSONShapeError too: a lone surrogate, an odd object
            if isinstance(exc, jsonlimits.JSONShapeError) and exc.code == "too_deep":
                raise OutputError(f"the output of action {self.kind!r}: {exc}") from None
            raise OutputError(f"the output of action {self.kind!r} is not JSON: {exc}") from None
        except RecursionError:
            depth = jsonlimits.MAX_JSON_DEPTH
            raise OutputError(f"the output of action {self.kind!r} is nested more than {depth} levels deep") from None
        if has_nul(text):
            raise OutputError(f"the output of action {self.kind!r}: {NUL_MESSAGE}")
        if len(text) > MAX_OUTPUT_BYTES:
            raise OutputError(
                f"the output of action {self.kind!r} is {len(text)} bytes; the limit is {MAX_OUTPUT_BYTES} (4 MB)"
            )
        if self.output_type is not Any:
            try:
                msgspec.convert(encoded, self.output_type)
            except msgspec.ValidationError as exc:
                raise OutputError(
                    f"the output of action {self.kind!r} does not match its declared type: {exc}"
                ) from None
        return encoded


class ActionRegistry:
    """The action kinds a kit knows, by kind."""

    def __init__(self) -> None:
        self._actions: dict[str, ActionDefinition] = {}

    def register(self, definition: ActionDefinition, *, replace: bool = False) -> None:
        if definition.kind in self._actions and not replace:
            raise ValueError(f"duplicate action kind {definition.kind!r}: it is already registered")
        self._actions[definition.kind] = definition

    def get(self, kind: str) -> ActionDefinition | None:
        return self._actions.get(kind)

    def __contains__(self, kind: object) -> bool:
        return kind in self._actions

    def __iter__(self) -> Iterator[ActionDefinition]:
        return iter(self._actions.values())

    def __len__(self) -> int:
        return len(self._actions)

    def public(self) -> list[dict[str, Any]]:
        return [definition.public() for definition in self._actions.values()]


def _signature_types(handler: Handler, kind: str, localns: dict[str, Any] | None) -> tuple[Any, Any, bool]:
    if not callable(handler):
        raise TypeError(f"the handler of action {kind!r} is not callable")
    params = [
        p
        for p in inspect.signature(handler).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if not 1 <= len(params) <= 2:
        raise TypeError(
            f"the handler of action {kind!r} must take (ctx) or (ctx, inputs), got {len(params)} parameters"
        )
    try:
        hints = typing.get_type_hints(handler, localns=localns, include_extras=True)
    except Exception as exc:
        raise TypeError(f"cannot read the type hints of action {kind!r}'s handler: {exc}") from None
    takes_inputs = len(params) == 2
    input_type: Any = hints.get(params[1].name, dict[str, Any]) if takes_inputs else _NoInputs
    if not (schemas.is_record_type(input_type) or schemas.is_mapping_type(input_type)):
        raise TypeError(
            f"the inputs of action {kind!r} must be annotated as a msgspec Struct, a TypedDict, a dataclass "
            f"or dict[str, Any], got {input_type!r}"
        )
    return input_type, hints.get("return", Any), takes_inputs


class _NoInputs(msgspec.Struct, forbid_unknown_fields=True):
    """This action takes no inputs."""


def _output_schema(output_type: Any, kind: str) -> schemas.Schema:
    if output_type is None or output_type is type(None):
        return {"type": "null"}
    try:
        return schemas.type_schema(output_type)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"the output type of action {kind!r} cannot be encoded as JSON: {exc}") from None
