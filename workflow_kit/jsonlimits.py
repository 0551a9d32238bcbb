"""The shape of JSON the kit accepts from users: nesting depth and encodable values. Pure.

Workflows and events arrive as decoded JSON (or Python values from the API). Everything downstream
(validation, ref interpolation, CEL, the database drivers) walks them recursively, so a value nested
thousands of levels deep would end in a `RecursionError` far from the cause, and a lone surrogate
(``"\\ud800"``) would fail in the database driver. `encode` checks a value up front and names the
path of the first offending part.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from . import paths

MAX_JSON_DEPTH: Final = 64
"""Objects and arrays may nest this many levels (the value itself is level 1)."""

_NOT_OPENING = bytes(range(256)).translate(None, b"[{")  # every byte but the opening brackets
_NOT_QUOTES_OR_BRACKETS = bytes(range(256)).translate(None, b'"[]{}')
_OPEN_CLOSE = bytes.maketrans(b"[]{}", b"()()")
INVALID_UNICODE_MESSAGE: Final = "the text is not valid Unicode (it holds a lone surrogate such as \\ud800)"
_Link = tuple[str | int, "_Link"] | None  # the path to a value, innermost step first


class JSONShapeError(ValueError):
    """A value cannot be accepted as JSON; `path` says where. `code` is ``too_deep`` or ``not_json``."""

    def __init__(self, path: str, reason: str, code: str) -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.path = path
        self.reason = reason
        self.code = code


def encode(value: Any, base: str = "", *, max_depth: int = MAX_JSON_DEPTH) -> bytes:
    """`value` as JSON text, if it nests at most `max_depth` levels and every part of it can be encoded
    (no lone surrogates in text, no objects msgspec cannot encode). Raises `JSONShapeError`."""
    try:
        encoded = msgspec.json.encode(value)
    except (TypeError, ValueError, RecursionError) as exc:  # UnicodeEncodeError is a ValueError
        raise _find(value, base, max_depth) or JSONShapeError(base, f"not JSON: {exc}", "not_json") from None
    if not _within_depth(encoded, max_depth):
        found = _find(value, base, max_depth)
        if found is not None:
            raise found
    return encoded


def valid_unicode(text: str) -> bool:
    """Whether text can be stored: UTF-8 has no encoding for a lone surrogate (``"\\ud800"``)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _within_depth(encoded: bytes, max_depth: int) -> bool:
    """Whether JSON text (as msgspec writes it) nests at most `max_depth` levels, at C speed.

    Each level needs an opening bracket, so text with at most `max_depth` of them (in strings too)
    is shallow enough: the usual event or output, for the cost of one ``translate``. Otherwise the
    brackets inside strings are taken out (see `_structure`), and each pass of ``replace`` removes the
    innermost pairs: text that empties within `max_depth` passes is shallow enough."""
    if len(encoded.translate(None, _NOT_OPENING)) <= max_depth:
        return True
    brackets = _structure(encoded)
    for _ in range(max_depth):
        if not brackets:
            return True
        shorter = brackets.replace(b"()", b"")
        if len(shorter) == len(brackets):
            return False  # cannot happen with valid JSON text; let `_find` decide
        brackets = shorter
    return not brackets


def _structure(encoded: bytes) -> bytes:
    """The brackets of JSON text outside its strings, as ``(`` and ``)``.

    Escaped backslashes and quotes must go first (pairs of backslashes read left to right, as a JSON
    reader does), so that every quote left opens or closes a string. If every string is then empty of
    brackets (every run of quotes has an even length: an opening quote followed by a bracket would end
    a run of odd length), the quotes go; otherwise what lies between them goes too."""
    if b"\\" in encoded:
        encoded = encoded.replace(b"\\\\", b"").replace(b'\\"', b"")
    text = encoded.translate(None, _NOT_QUOTES_OR_BRACKETS)
    if text.count(b'""') * 2 != text.count(b'"'):
        text = b"".join(text.split(b'"')[::2])
    return text.translate(_OPEN_CLOSE, b'"')


def _find(value: Any, base: str, max_depth: int) -> JSONShapeError | None:
    """The first part that is too deep or cannot be encoded, found without recursion."""
    stack: list[tuple[Any, _Link, int]] = [(value, None, 1)]
    while stack:
        item, link, depth = stack.pop()
        if isinstance(item, dict | list | tuple):
            if depth > max_depth:
                return JSONShapeError(_path(base, link), f"nested more than {max_depth} levels deep", "too_deep")
            if isinstance(item, dict):
                for key, child in reversed(item.items()):  # the stack pops them in order
                    if _unencodable({key: None}):
                        if isinstance(key, str):
                            reason = f"this object has a key that is not valid Unicode (a lone surrogate): {key!r:.60}"
                        else:
                            reason = f"this object has a key that is not text: {key!r:.60}"
                        return JSONShapeError(_path(base, link), reason, "not_json")
                    stack.append((child, (key if isinstance(key, str) else str(key), link), depth + 1))
            else:
                stack.extend((item[i], (i, link), depth + 1) for i in range(len(item) - 1, -1, -1))
        elif _unencodable(item):
            reason = INVALID_UNICODE_MESSAGE if isinstance(item, str) else f"not a JSON value: {type(item).__name__}"
            return JSONShapeError(_path(base, link), reason, "not_json")
    return None


def _unencodable(leaf: Any) -> bool:
    try:
        msgspec.json.encode(leaf)
    except (TypeError, ValueError, RecursionError):
        return True
    return False


def _path(base: str, link: _Link) -> str:
    parts: list[str | int] = []
    while link is not None:
        part, link = link
        parts.append(part)
    return paths.join(base, reversed(parts))
