"""Problem paths: ``actions[2].inputs.email``, ``edges[0].conditional.ref``, ``inputs.tags[1]``."""

from __future__ import annotations

import re
from collections.abc import Iterable

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def key(base: str, name: str) -> str:
    """Append an object key: ``.name``, or ``["odd key"]`` when it is not an identifier."""
    if _IDENTIFIER.match(name):
        return f"{base}.{name}" if base else name
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'{base}["{quoted}"]'


def index(base: str, position: int) -> str:
    """Append an array index: ``[3]``."""
    return f"{base}[{position}]"


def join(base: str, parts: Iterable[str | int]) -> str:
    """Append a sequence of keys and indexes (as jsonschema's ``absolute_path`` gives them)."""
    path = base
    for part in parts:
        path = index(path, part) if isinstance(part, int) else key(path, part)
    return path
