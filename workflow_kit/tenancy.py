"""Tenants: every stored thing belongs to one; a tenant id is a short non-empty string."""

from __future__ import annotations

from .jsonlimits import valid_unicode

MAX_TENANT_LENGTH = 128


def check_tenant(tenant: str) -> str:
    """The tenant id, if it is usable: a non-blank string of at most 128 characters, valid Unicode, without NUL."""
    if (
        not isinstance(tenant, str)
        or not tenant.strip()
        or len(tenant) > MAX_TENANT_LENGTH
        or "\x00" in tenant
        or not valid_unicode(tenant)
    ):
        raise ValueError(
            f"a tenant is a non-empty string of at most {MAX_TENANT_LENGTH} characters, "
            f"valid Unicode without NUL, got {tenant!r}"
        )
    return tenant
