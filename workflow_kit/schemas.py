"""JSON Schema from Python types (through msgspec), and the walks over schemas that validation needs.

One source of truth: an action's annotated input and output types give the JSON Schemas the editor's
forms use, the schemas inputs are validated against, and the paths a ref into an output may take.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any, get_args, get_origin, is_typeddict

import jsonschema
import msgspec
from jsonschema import Draft202012Validator

from .connections.credential import TYPE_KEY, Credential

Schema = dict[str, Any]
ANY: Schema = {}


def type_schema(annotation: Any) -> Schema:
    """A self-contained JSON Schema for a Python type: the top level inlined, shared parts in ``$defs``."""
    if annotation is Any:
        return {}
    raw = msgspec.json.schema(annotation, schema_hook=_schema_hook)
    defs: dict[str, Any] = raw.pop("$defs", {})
    ref = raw.get("$ref")
    if isinstance(ref, str) and len(raw) == 1:
        raw = dict(defs[ref.rsplit("/", 1)[-1]])
    if defs:
        raw["$defs"] = defs
    return raw


def _schema_hook(annotation: Any) -> dict[str, Any]:
    """msgspec's schema hook: a connection's `Credential` is, in JSON, the connection's id."""
    if annotation is Credential:
        return {"type": "string", "minLength": 1, "maxLength": 64}
    raise NotImplementedError


def input_schema(annotation: Any) -> Schema:
    """Like `type_schema`, but record-like types (Struct, TypedDict, dataclass) reject unknown fields,
    so a misspelt input name is a problem at save time instead of a silently ignored value."""
    schema = type_schema(annotation)
    for node in [schema, *schema.get("$defs", {}).values()]:
        if node.get("type") == "object" and "properties" in node:
            node.setdefault("additionalProperties", False)
    return schema


def is_record_type(annotation: Any) -> bool:
    return (
        (isinstance(annotation, type) and issubclass(annotation, msgspec.Struct))
        or is_typeddict(annotation)
        or dataclasses.is_dataclass(annotation)
    )


def is_mapping_type(annotation: Any) -> bool:
    origin = get_origin(annotation) or annotation
    if origin not in (dict, Mapping):
        return False
    args = get_args(annotation)
    return not args or args[0] is str


def connection_fields(schema: Schema) -> dict[str, str]:
    """The top-level inputs of an input schema that are connections (``x-connection-type``), with their
    type: ``{"slack": "slack"}``."""
    found: dict[str, str] = {}
    for name, prop in (resolve(schema, schema).get("properties") or {}).items():
        for branch in branches(schema, prop):
            type_id = branch.get(TYPE_KEY)
            if isinstance(type_id, str):
                found[name] = type_id
    return found


def validator_for(schema: Schema) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


# ---------------------------------------------------------------------------------------------------
# Walking a schema


def resolve(root: Schema, node: Any) -> Schema:
    """Follow local ``$ref`` pointers (``#/$defs/Name``)."""
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 32:
        pointer = node["$ref"]
        if not pointer.startswith("#/"):
            return ANY
        target: Any = root
        for part in pointer[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        node, seen = target, seen + 1
    return node if isinstance(node, dict) else ANY


def branches(root: Schema, node: Any) -> list[Schema]:
    """The alternatives a schema allows (``anyOf``/``oneOf`` flattened, refs resolved)."""
    node = resolve(root, node)
    options = node.get("anyOf") or node.get("oneOf")
    if isinstance(options, list):
        return [b for option in options for b in branches(root, option)]
    return [node]


def json_types(root: Schema, node: Any) -> set[str] | None:
    """The JSON types a schema admits (``integer`` counted as ``number`` too), or None if any."""
    found: set[str] = set()
    for branch in branches(root, node):
        if "const" in branch:
            found.add(_type_of(branch["const"]))
        elif isinstance(branch.get("enum"), list):
            found.update(_type_of(v) for v in branch["enum"])
        elif "type" in branch:
            declared = branch["type"]
            found.update(declared if isinstance(declared, list) else [declared])
        elif "properties" in branch:
            found.add("object")
        elif "items" in branch or "prefixItems" in branch:
            found.add("array")
        else:
            return None
    if "integer" in found:
        found.add("number")
    return found


def child(root: Schema, node: Any, step: str | int) -> list[Schema] | None:
    """The schemas of `node`'s member or item `step`: a list (empty if the schema has no such member),
    or None when the schema does not constrain it (free-form object, any)."""
    found: list[Schema] = []
    for branch in branches(root, node):
        types = json_types(root, branch)
        if types is None:
            return None
        if isinstance(step, str) and step.isdigit() and "array" in types:
            step = int(step)  # a dotted number (``items.0``) read the JavaScript way
        if isinstance(step, str) and "object" in types:
            properties = branch.get("properties") or {}
            extra = branch.get("additionalProperties")
            if step in properties:
                found.append(properties[step])
            elif isinstance(extra, dict):
                if not extra:
                    return None
                found.append(extra)
            elif extra is None and "properties" not in branch:
                return None  # a free-form object
        elif isinstance(step, int) and "array" in types:
            prefix = branch.get("prefixItems") or []
            items = branch.get("items")
            fixed = items is False or branch.get("maxItems") == len(prefix)
            if 0 <= step < len(prefix):
                found.append(prefix[step])
            elif fixed and -len(prefix) <= step < 0:
                found.append(prefix[step])  # RFC 9535 counts a negative index from the end
            elif isinstance(items, dict):
                if not items:
                    return None
                found.append(items)
            elif items is None and not prefix:
                return None
    return found


def describe_types(types: set[str] | None) -> str:
    if types is None:
        return "any value"
    shown = sorted(types - {"integer"} if "number" in types else types)
    return " or ".join(shown)


def compatible(source: set[str] | None, target: set[str] | None) -> bool:
    """Could a value of the `source` types satisfy the `target` types?"""
    if source is None or target is None:
        return True
    if "number" in target:
        target = target | {"integer"}
    return bool(source & target)


# ---------------------------------------------------------------------------------------------------
# Errors


def iter_errors(validator: Draft202012Validator, instance: Any) -> Iterator[tuple[tuple[str | int, ...], str, str]]:
    """Validation errors as ``(path, code, message)``: ``missing_input``, ``unknown_input`` or
    ``invalid_input``, one per offending member, in path order.

    The messages are for the end users who fill in the inputs. An ``invalid_input`` takes the
    ``errorMessage`` of the schema that failed, or of the input it belongs to (the convention of
    ajv-errors); a value that fails a ``pattern`` or a ``format`` is "not in the expected format",
    with the schema's first example or its description, never the regular expression."""
    found: list[tuple[tuple[str | int, ...], str, str]] = []
    for error in validator.iter_errors(instance):
        base = tuple(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            for name in error.validator_value:
                if name not in error.instance:
                    found.append(((*base, name), "missing_input", "required, but not given"))
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = set(error.schema.get("properties", {}))
            for name in error.instance:
                if name not in allowed:
                    known = ", ".join(sorted(allowed)) or "none"
                    found.append(((*base, name), "unknown_input", f"unknown input (known: {known})"))
        else:
            root = validator.schema if isinstance(validator.schema, dict) else {}
            found.append((base, "invalid_input", _message(error, root)))
    yield from sorted(set(found), key=lambda item: [str(p) for p in item[0]])


def _message(error: jsonschema.ValidationError, root: Schema) -> str:
    trail = _trail(root, error)
    custom = _annotation(trail, "errorMessage")
    if isinstance(custom, str) and custom.strip():
        return custom
    if error.validator in ("anyOf", "oneOf"):
        # When the value has the type of one alternative only, what is wrong is what that one says.
        fitting = _fitting_branch_errors(error)
        if fitting:
            return _message(min(fitting, key=lambda e: list(map(str, e.absolute_path))), root)
        return f"{_short(error.instance)} does not match any allowed form ({_describe_options(error, root)})"
    if error.validator == "type":
        expected = error.validator_value
        shown = " or ".join(expected) if isinstance(expected, list) else expected
        return f"expected {shown}, got {_type_of(error.instance)}"
    if error.validator in ("pattern", "format"):
        return _format_message(error.instance, trail)
    return error.message


def _format_message(instance: Any, trail: list[Schema]) -> str:
    """A value in the wrong format, said with an example or the description rather than the regex."""
    message = f"{_short(instance)} is not in the expected format"
    examples = _annotation(trail, "examples")
    if isinstance(examples, list) and examples and isinstance(examples[0], str | int | float):
        return f"{message}, e.g. {examples[0]}"
    description = _annotation(trail, "description")
    if isinstance(description, str) and description.strip():
        return f"{message}: {description.strip()}"
    return message


def _fitting_branch_errors(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """The errors of the one alternative (of an ``anyOf``/``oneOf``) whose type the value has, if
    exactly one has it and its errors are about the value itself (not a member of it, which would be
    reported at this value's path); otherwise none."""
    by_branch: dict[Any, list[jsonschema.ValidationError]] = {}
    for sub in error.context or []:
        if sub.relative_schema_path:
            by_branch.setdefault(sub.relative_schema_path[0], []).append(sub)
    options = error.validator_value if isinstance(error.validator_value, list) else []
    fitting = [errors for errors in by_branch.values() if not any(e.validator == "type" for e in errors)]
    if len(fitting) != 1 or len(by_branch) != len(options):
        return []
    return [e for e in fitting[0] if e.absolute_path == error.absolute_path]


_MEMBER_KEYWORDS = frozenset({"properties", "patternProperties"})
_NAMED_KEYWORDS = _MEMBER_KEYWORDS | {"$defs", "definitions", "dependentSchemas"}
_LISTED_KEYWORDS = frozenset({"anyOf", "oneOf", "allOf", "prefixItems"})


def _trail(root: Schema, error: jsonschema.ValidationError) -> list[Schema]:
    """The schemas from the one that failed up to the schema of the input (object member) it belongs
    to: innermost first. Found by walking the error's schema path from the root (following local
    ``$ref``s, which the path steps through without naming them)."""
    node: Any = root
    trail: list[Schema] = [root]
    steps = list(error.absolute_schema_path)[:-1]  # the last step is the keyword that failed
    index = 0
    while index < len(steps):
        step = steps[index]
        if isinstance(node, dict) and step not in node and isinstance(node.get("$ref"), str):
            node = resolve(root, node)
            trail.append(node)
            continue
        if step in _NAMED_KEYWORDS or step in _LISTED_KEYWORDS:
            if index + 1 >= len(steps):
                break
            container = node.get(step) if isinstance(node, dict) else None
            key = steps[index + 1]
            node = container.get(key) if isinstance(container, dict) and isinstance(key, str) else None
            if isinstance(container, list) and isinstance(key, int) and 0 <= key < len(container):
                node = container[key]
            index += 2
            if step in _MEMBER_KEYWORDS:
                trail = []  # a member's errors belong to the member: what encloses it does not speak for it
        else:
            node = node.get(step) if isinstance(node, dict) else None
            index += 1
            if step == "additionalProperties":
                trail = []
        if not isinstance(node, dict):
            return [error.schema] if isinstance(error.schema, dict) else []
        trail.append(node)
    if isinstance(error.schema, dict) and (not trail or trail[-1] is not error.schema):
        trail.append(error.schema)
    return trail[::-1]


def _annotation(trail: list[Schema], keyword: str) -> Any:
    """The innermost value of `keyword` along `trail` (see `_trail`), or None."""
    for node in trail:
        if keyword in node:
            return node[keyword]
    return None


def _describe_options(error: jsonschema.ValidationError, root: Schema) -> str:
    options = error.validator_value if isinstance(error.validator_value, list) else []
    return " or ".join(describe_types(json_types(root, option)) for option in options)


def _short(value: Any) -> str:
    text = msgspec.json.encode(value).decode() if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
