"""Struct types made ready for decoding while one thread runs.

msgspec (0.22) builds what it needs to decode or convert into a `msgspec.Struct` type the first time
that type is used, partly in Python code; two threads doing so for the same type at once can crash the
interpreter (a segmentation fault, seen when a worker loaded a workflow in the event loop while a run
store's thread loaded another). `prepare` builds it for every Struct type defined so far, the kit's,
the application's (action inputs) and the libraries': `WorkflowKit()` calls it, and a worker calls it
again as it starts, before its threads run.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import msgspec

_LOCK = threading.Lock()
_PREPARED: set[type] = set()


def _struct_types() -> Iterator[type]:
    stack: list[type] = [msgspec.Struct]
    while stack:
        subclasses: list[type] = stack.pop().__subclasses__()
        yield from subclasses
        stack.extend(subclasses)


def prepare() -> int:
    """Build the decoding information of every Struct type not prepared yet; how many it prepared. A type
    msgspec cannot decode into (an annotation it does not support) is left for its use to report."""
    with _LOCK:
        prepared = 0
        for struct_type in list(_struct_types()):
            if struct_type in _PREPARED:
                continue
            with contextlib.suppress(TypeError, NameError, ValueError):
                msgspec.json.Decoder(struct_type)
            _PREPARED.add(struct_type)
            prepared += 1
        return prepared
