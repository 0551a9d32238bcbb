"""Shared pieces of the routes: paging parameters and running the kit's blocking calls in a thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter

from workflow_kit import WorkflowKit
from workflow_kit.tokens import Principal

T = TypeVar("T")

Kit = NamedDependency[WorkflowKit]
"""The kit, injected by the app."""
Caller = NamedDependency[Principal]
"""Who is calling (from the token or server key); raises 401 before the handler runs if no one."""

Limit = Annotated[int, QueryParameter(ge=1, le=500, description="page size")]
Offset = Annotated[int, QueryParameter(ge=0, le=1_000_000_000, description="items to skip")]
MAX_MILLIS = 2**53
Millis = Annotated[int, QueryParameter(ge=0, le=MAX_MILLIS, description="epoch milliseconds")]
Id = Annotated[str, PathParameter(max_length=64)]
"""A workflow, run or event id in the path."""


async def blocking(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a synchronous (database) call off the event loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)
