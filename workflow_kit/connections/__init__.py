"""Connections: a tenant's own accounts at outside services (API keys, OAuth 2.0), declared by type in
Python, stored encrypted per tenant, and handed live to the handlers whose inputs name them."""

from __future__ import annotations

from .credential import Connection, Credential, connection_of
from .types import ConnectionType, ConnectionTypeRegistry, OAuth2Settings

__all__ = ["Connection", "ConnectionType", "ConnectionTypeRegistry", "Credential", "OAuth2Settings", "connection_of"]
