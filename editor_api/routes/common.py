"""Shared pieces of the routes: the injected kit and caller, paging and path parameters."""

from __future__ import annotations

from typing import Annotated

from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter

from workflow_kit import WorkflowKit
from workflow_kit.tokens import Principal

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
