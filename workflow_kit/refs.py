"""``!ref($...)`` references: scanning, compiling (RFC 9535 JSONPath) and interpolation.

- A string that is exactly one ref takes the referenced value with its JSON type; if the query matches
  nothing the value is null.
- Refs embedded in a longer string are rendered into it (strings as they are, anything else as compact
  JSON); several refs per string are fine. An embedded ref that matches nothing is an error naming it.
- A query that can match several values (wildcard, slice, filter, descendant) always yields a list.
- For workflows written for the TypeScript kit, dotted names RFC 9535 does not allow are read as quoted
  names (``$.state.step-1`` as ``$.state['step-1']``), and dotted numbers as a key or an index, as
  JavaScript reads them (``$.state.1`` finds action ``"1"``, ``$.event.data.items.0`` the first item).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

import jsonpath_rfc9535
import msgspec
from jsonpath_rfc9535.segments import JSONPathChildSegment
from jsonpath_rfc9535.selectors import IndexSelector, NameSelector

from . import paths
from .errors import RefError

REF_OPEN: Final = "!ref("

_ENV = jsonpath_rfc9535.JSONPathEnvironment()
_SHORTHAND = re.compile(r"[A-Za-z_\u0080-\ud7ff\ue000-\U0010ffff][A-Za-z0-9_\u0080-\ud7ff\ue000-\U0010ffff]*\Z")
_LOOSE_NAME = re.compile(r"[^\s.\[\]()'\"*?@$,:]+")


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()
"""What `resolve` returns when a singular query matches nothing."""


@dataclass(frozen=True, slots=True)
class RefSpan:
    """Where one ``!ref(...)`` sits in a string."""

    start: int
    end: int
    path: str

    @property
    def text(self) -> str:
        return f"{REF_OPEN}{self.path})"


@dataclass(frozen=True, slots=True)
class Ref:
    """A compiled ref: its text, its JSONPath query, and the fixed name/index prefix of the query."""

    text: str
    path: str
    query: jsonpath_rfc9535.JSONPathQuery
    singular: bool
    prefix: tuple[str | int, ...]
    """The leading name/index selectors, up to the first wildcard, slice, filter or descendant segment."""

    @property
    def root(self) -> str | None:
        """``event``, ``state``, ``output``, ...: the first name after ``$``."""
        return self.prefix[0] if self.prefix and isinstance(self.prefix[0], str) else None


def scan(text: str) -> list[RefSpan]:
    """Find every ``!ref(...)`` in `text`, balancing parentheses and skipping quoted strings.

    Raises `RefError` for an unterminated ref or one without a ``$`` query.
    """
    spans: list[RefSpan] = []
    start = text.find(REF_OPEN)
    while start != -1:
        end = _closing_paren(text, start + len(REF_OPEN))
        if end is None:
            raise RefError(text[start:], "unterminated !ref( ... ): no closing parenthesis")
        path = text[start + len(REF_OPEN) : end].strip()
        if not path.startswith("$"):
            raise RefError(
                text[start : end + 1],
                "a ref holds a JSONPath query starting with $, e.g. !ref($.event.data.id)",
            )
        spans.append(RefSpan(start, end + 1, path))
        start = text.find(REF_OPEN, end + 1)
    return spans


def has_ref(text: str) -> bool:
    return REF_OPEN in text


def whole_ref(text: str) -> RefSpan | None:
    """The span if `text` is exactly one ref (no surrounding text), else None."""
    if not text.startswith(REF_OPEN) or not text.endswith(")"):
        return None
    spans = scan(text)
    if len(spans) == 1 and spans[0].start == 0 and spans[0].end == len(text):
        return spans[0]
    return None


@lru_cache(maxsize=4096)
def compile_ref(path: str) -> Ref:
    """Compile a ref's JSONPath (cached). Raises `RefError` with the parser's message."""
    normalized = _normalize_dotted_names(path)
    try:
        query = _ENV.compile(normalized)
    except jsonpath_rfc9535.JSONPathError as exc:
        raise RefError(f"{REF_OPEN}{path})", f"invalid JSONPath: {exc}") from None
    prefix: list[str | int] = []
    for segment in query.segments:
        step = _singular_step(segment)
        if step is None:
            break
        prefix.append(step)
    singular = len(prefix) == len(query.segments)
    return Ref(f"{REF_OPEN}{path})", path, query, singular, tuple(prefix))


def _singular_step(segment: object) -> str | int | None:
    """The name or index a segment selects, if it selects at most one value."""
    if not isinstance(segment, JSONPathChildSegment):
        return None
    selectors = segment.selectors
    if len(selectors) == 1 and isinstance(selectors[0], NameSelector | IndexSelector):
        only = selectors[0]
        return only.name if isinstance(only, NameSelector) else only.index
    if (  # the ['1',1] pair a dotted number becomes: at most one matches, as a value is an object or an array
        len(selectors) == 2
        and isinstance(selectors[0], NameSelector)
        and isinstance(selectors[1], IndexSelector)
        and selectors[0].name == str(selectors[1].index)
    ):
        return selectors[0].name
    return None


def resolve(ref: Ref, context: Mapping[str, Any]) -> Any:
    """The value a ref selects in `context`: a value or `MISSING` (singular), or a list (otherwise)."""
    nodes = ref.query.find(context)  # type: ignore[arg-type]
    if ref.singular:
        return nodes[0].value if nodes else MISSING
    return [node.value for node in nodes]


def render(value: Any) -> str:
    """How a value appears inside a string: strings as they are, anything else as compact JSON.

    Whole floats render as integers (``15.0`` -> ``15``), as JSON has one number type and the
    TypeScript kit renders them so.
    """
    if isinstance(value, str):
        return value
    return msgspec.json.encode(_plain_numbers(value)).decode()


def _plain_numbers(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: _plain_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_numbers(v) for v in value]
    return value


def interpolate_string(text: str, context: Mapping[str, Any]) -> Any:
    """Resolve the refs in one string (see the module docstring for the rules)."""
    if REF_OPEN not in text:
        return text
    spans = scan(text)
    if len(spans) == 1 and spans[0].start == 0 and spans[0].end == len(text):
        value = resolve(compile_ref(spans[0].path), context)
        return None if value is MISSING else value
    out: list[str] = []
    last = 0
    for span in spans:
        value = resolve(compile_ref(span.path), context)
        if value is MISSING:
            raise RefError(span.text, "matched no value (a skipped action, or a field that is not there)")
        out.append(text[last : span.start])
        out.append(render(value))
        last = span.end
    out.append(text[last:])
    return "".join(out)


def interpolate(value: Any, context: Mapping[str, Any]) -> Any:
    """Resolve refs anywhere in a JSON value (nested objects and arrays). Never mutates `value`."""
    if isinstance(value, str):
        return interpolate_string(value, context)
    if isinstance(value, dict):
        return {k: interpolate(v, context) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, context) for v in value]
    return value


def strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string in a JSON value that contains a ref, with its problem path."""
    if isinstance(value, str):
        if REF_OPEN in value:
            yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from strings(v, paths.key(path, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from strings(v, paths.index(path, i))


def _closing_paren(text: str, pos: int) -> int | None:
    depth, quote = 1, ""
    i = pos
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _normalize_dotted_names(path: str) -> str:
    """Rewrite ``.name`` segments that RFC 9535 rejects (``.1``, ``.step-1``) as ``['name']``."""
    if "." not in path:
        return path
    out: list[str] = []
    i, depth, quote = 0, 0, ""
    while i < len(path):
        ch = path[i]
        if quote:
            out.append(ch)
            if ch == "\\" and i + 1 < len(path):
                out.append(path[i + 1])
                i += 1
            elif ch == quote:
                quote = ""
            i += 1
            continue
        if ch in "'\"":
            quote = ch
        elif ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == "." and depth == 0:
            dots = ".." if path.startswith("..", i) else "."
            match = _LOOSE_NAME.match(path, i + len(dots))
            if match and not _SHORTHAND.match(match.group()):
                token = match.group()
                if token.isdigit() and len(token) < 16:
                    selector = f"['{token}',{int(token)}]"  # a key "1" of an object, or item 1 of an array
                else:
                    selector = "['" + token.replace("\\", "\\\\").replace("'", "\\'") + "']"
                out.append(f"..{selector}" if dots == ".." else selector)
                i = match.end()
                continue
            out.append(dots)
            i += len(dots)
            continue
        out.append(ch)
        i += 1
    return "".join(out)
