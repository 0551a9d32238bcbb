"""The one rule of the public API: a method that touches the database is async, and its synchronous
twin has the same name with ``_sync`` (``kit.workflows.create`` / ``kit.workflows.create_sync``).

The ``_sync`` method holds the logic (it is a blocking database call); `async_twin` makes the async
one from it, running it in a worker thread so the event loop never blocks::

    class Store:
        def get_sync(self, tenant: str, item_id: str) -> Item:
            \"\"\"The item.\"\"\"
            ...

        get = async_twin(get_sync)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")
S = TypeVar("S")

SUFFIX = "_sync"


def async_twin(method: Callable[Concatenate[S, P], T]) -> Callable[Concatenate[S, P], Coroutine[Any, Any, T]]:
    """The async variant of the blocking method `method` (named ``<name>_sync``): the same parameters
    and docstring, awaiting `method` in a worker thread (`asyncio.to_thread`)."""
    name = method.__name__
    if not name.endswith(SUFFIX):
        raise ValueError(f"{name!r}: a blocking method's name ends with {SUFFIX!r}; its async twin drops it")

    async def twin(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await asyncio.to_thread(method, self, *args, **kwargs)

    twin.__name__ = name.removesuffix(SUFFIX)
    twin.__qualname__ = method.__qualname__.removesuffix(SUFFIX)
    twin.__module__ = method.__module__
    twin.__doc__ = method.__doc__
    twin.__wrapped__ = method  # type: ignore[attr-defined]  # inspect.signature shows the parameters
    return twin
