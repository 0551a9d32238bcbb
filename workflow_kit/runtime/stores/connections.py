"""A tenant's connections to outside accounts (``kit.connections``): create (an API-key form) or connect
through OAuth 2.0, list, rename, test, delete, reconnect; and, for runs, the live credentials.

Credentials are sealed with the kit's keyring (``secrets.py``, AES-GCM) bound to their tenant and id,
so the database never holds one in clear. An OAuth token is refreshed when it is about to expire by
the one worker that claims the row (a conditional update of ``refresh_until`` against the sealed token
it read): others wait for its new token instead of refreshing again. A refresh the provider refuses
marks the connection broken, and steps that need it fail at once, naming it.
"""

from __future__ import annotations

import asyncio
import builtins
import inspect
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from ...actions import ActionRegistry
from ...connections import oauth
from ...connections.credential import Credential
from ...connections.types import ConnectionType, ConnectionTypeRegistry
from ...connections.usage import connection_ids, problems, uses
from ...errors import NonRetriableError, Problem, WorkflowKitError
from ...events import new_id
from ...secrets import Keyring
from ...tenancy import check_tenant
from ...timeutil import Clock
from ...twins import async_twin
from ..models import ConnectionInUseError, ConnectionRecord, NotFoundError
from ..storage import schema
from ..storage.db import Database, one_of

C, S, W, V = schema.connections, schema.oauth_states, schema.workflows, schema.workflow_versions
MAX_NAME_LENGTH = 256
STATE_TTL_MS = 10 * 60_000
REFRESH_CLAIM_MS = 30_000
REFRESH_WAIT_S = 20.0
OK, BROKEN = "ok", "broken"


class ConnectionUnavailable(NonRetriableError):
    """A step needs a connection that is broken or gone: the run fails at once, naming it."""

    code = "connection_unavailable"


class ConnectionTestFailed(WorkflowKitError):
    """A connection's test hook said it does not work (the message is the hook's)."""

    code = "connection_test_failed"


class ConnectionStore:
    """``kit.connections``: every method takes the tenant first; another tenant's connection raises
    `NotFoundError`. Async, each with a ``_sync`` twin."""

    def __init__(
        self,
        db: Database,
        types: ConnectionTypeRegistry,
        registry: ActionRegistry,
        clock: Clock,
        keyring: Callable[[], Keyring],
    ) -> None:
        self._db = db
        self._types = types
        self._registry = registry
        self._clock = clock
        self._keyring = keyring

    # -- records -----------------------------------------------------------------------------------

    def create_sync(self, tenant: str, type: str, *, name: str, fields: Mapping[str, Any]) -> ConnectionRecord:
        """A new API-key connection: `fields` are the type's form, checked against its schema (a
        `ValueError` with the path of what is wrong), sealed before they are stored."""
        check_tenant(tenant)
        declared = self._type(type, "api_key")
        checked = declared.check_fields(dict(fields))
        name = _name(name)
        now = self._clock.now_ms()
        connection_id = new_id(now)
        sealed = self._keyring().seal(checked, bound_to=_binding(tenant, connection_id))
        with self._db.write() as conn:
            conn.execute(
                C.insert().values(
                    id=connection_id,
                    tenant=tenant,
                    type=type,
                    name=name,
                    status=OK,
                    secret=sealed,
                    expires_at=None,
                    refresh_until=None,
                    created_at=now,
                    updated_at=now,
                )
            )
            return _record(self._row(conn, tenant, connection_id))

    create = async_twin(create_sync)

    def list_sync(self, tenant: str, *, type: str | None = None) -> builtins.list[ConnectionRecord]:
        """The tenant's connections (of one `type`, if given), by name."""
        check_tenant(tenant)
        query = C.select().where(C.c.tenant == tenant)
        if type is not None:
            query = query.where(C.c.type == type)
        with self._db.read() as conn:
            return [_record(row) for row in conn.execute(query.order_by(C.c.type, C.c.name, C.c.id)).mappings()]

    list = async_twin(list_sync)

    def get_sync(self, tenant: str, connection_id: str) -> ConnectionRecord:
        """One of the tenant's connections (`NotFoundError` for another tenant's, as for none)."""
        check_tenant(tenant)
        with self._db.read() as conn:
            return _record(self._row(conn, tenant, connection_id))

    get = async_twin(get_sync)

    def rename_sync(self, tenant: str, connection_id: str, name: str) -> ConnectionRecord:
        """Give a connection another name (1 to 256 characters; `ValueError` otherwise)."""
        check_tenant(tenant)
        name = _name(name)
        with self._db.write() as conn:
            self._row(conn, tenant, connection_id)
            conn.execute(C.update().where(C.c.id == connection_id).values(name=name, updated_at=self._clock.now_ms()))
            return _record(self._row(conn, tenant, connection_id))

    rename = async_twin(rename_sync)

    def delete_sync(self, tenant: str, connection_id: str) -> None:
        """Delete a connection; refused (`ConnectionInUseError`, naming them) while the latest published
        version of one of the tenant's workflows uses it."""
        check_tenant(tenant)
        with self._db.write() as conn:
            row = self._row(conn, tenant, connection_id)
            users = [w for w in self._published(conn, tenant) if connection_id in connection_ids(w[2], self._registry)]
            if users:
                names = ", ".join(repr(name) for _, name, _ in users)
                listed = [{"id": workflow_id, "name": name} for workflow_id, name, _ in users]
                raise ConnectionInUseError(
                    f"{row['name']!r} is used by published workflows ({names}): change them first", listed
                )
            conn.execute(C.delete().where(C.c.id == connection_id))

    delete = async_twin(delete_sync)

    def test_sync(self, tenant: str, connection_id: str) -> ConnectionRecord:
        """Check that a connection still works: its type's `test` hook (if it has none, that its
        credential opens and, for OAuth, is fresh). `ConnectionTestFailed` with the hook's message."""
        with self._db.read() as conn:
            row = self._row(conn, tenant, connection_id)
        credential = self._credentials(tenant, {"connection": (row["type"], connection_id)})["connection"]
        hook = self._types.get(row["type"])
        if hook is not None and hook.test is not None:
            try:
                result = hook.test(credential)
                if inspect.isawaitable(result):
                    asyncio.run(_awaited(result))
            except Exception as exc:
                raise ConnectionTestFailed(f"{row['name']!r} does not work: {exc}") from None
        return self.get_sync(tenant, connection_id)

    test = async_twin(test_sync)

    def rotate_keys_sync(self) -> int:
        """Seal every connection's credential (and every OAuth flow's verifier) again under the newest
        key; returns how many were resealed. Run it after putting a new key first."""
        keyring = self._keyring()
        count = 0
        with self._db.write() as conn:
            for row in conn.execute(sa.select(C.c.id, C.c.tenant, C.c.secret)).mappings():
                resealed = keyring.reseal(row["secret"], bound_to=_binding(row["tenant"], row["id"]))
                if resealed is not None:
                    conn.execute(C.update().where(C.c.id == row["id"]).values(secret=resealed))
                    count += 1
            for row in conn.execute(sa.select(S.c.state, S.c.tenant, S.c.verifier)).mappings():
                resealed = keyring.reseal(row["verifier"], bound_to=_binding(row["tenant"], row["state"]))
                if resealed is not None:
                    conn.execute(S.update().where(S.c.state == row["state"]).values(verifier=resealed))
                    count += 1
        return count

    rotate_keys = async_twin(rotate_keys_sync)

    # -- OAuth -------------------------------------------------------------------------------------

    def start_oauth_sync(
        self,
        tenant: str,
        type: str,
        *,
        redirect_uri: str,
        name: str | None = None,
        connection_id: str | None = None,
    ) -> str:
        """Begin connecting an OAuth account (or reconnecting `connection_id`): returns the provider's
        authorize URL for the pop-up. The state and the PKCE verifier stay here, in ``wk_oauth_states``."""
        check_tenant(tenant)
        declared = self._type(type, "oauth2")
        assert declared.oauth is not None
        now = self._clock.now_ms()
        state, verifier = oauth.new_state(), oauth.new_verifier()
        with self._db.write() as conn:
            if connection_id is not None:
                row = self._row(conn, tenant, connection_id)
                if row["type"] != type:
                    raise NotFoundError(f"no connection {connection_id!r}")
                name = row["name"]
            conn.execute(S.delete().where(S.c.expires_at < now))
            conn.execute(
                S.insert().values(
                    state=state,
                    tenant=tenant,
                    type=type,
                    connection_id=connection_id,
                    name=_name(name or declared.name),
                    verifier=self._keyring().seal({"verifier": verifier}, bound_to=_binding(tenant, state)),
                    redirect_uri=redirect_uri,
                    expires_at=now + STATE_TTL_MS,
                )
            )
        return oauth.authorize_url(declared.oauth, redirect_uri=redirect_uri, state=state, verifier=verifier)

    start_oauth = async_twin(start_oauth_sync)

    def finish_oauth_sync(self, state: str, code: str) -> tuple[str, ConnectionRecord]:
        """The provider's callback: exchange `code` for tokens with the verifier kept for `state` (once,
        within ten minutes), store them sealed, and return the tenant and the connection. An unknown or
        expired state is `NotFoundError`; a refused code is `OAuthFailed`."""
        now = self._clock.now_ms()
        with self._db.write() as conn:
            flow = conn.execute(S.select().where(S.c.state == state)).mappings().first()
            if flow is not None:
                conn.execute(S.delete().where(S.c.state == state))  # used once, whatever happens next
        if flow is None or flow["expires_at"] < now:
            raise NotFoundError("this sign-in link has expired or was already used: start again")
        tenant = flow["tenant"]
        declared = self._type(flow["type"], "oauth2")
        assert declared.oauth is not None
        keyring = self._keyring()
        verifier = keyring.open(flow["verifier"], bound_to=_binding(tenant, state))["verifier"]
        token = oauth.exchange_code(declared.oauth, redirect_uri=flow["redirect_uri"], code=code, verifier=verifier)
        kept, expires_at = oauth.stored_token(token, self._clock.now_ms())
        with self._db.write() as conn:
            connection_id = flow["connection_id"]
            if connection_id is not None and self._find(conn, tenant, connection_id) is not None:
                conn.execute(
                    C.update()
                    .where(C.c.id == connection_id)
                    .values(
                        status=OK,
                        secret=keyring.seal(kept, bound_to=_binding(tenant, connection_id)),
                        expires_at=expires_at,
                        refresh_until=None,
                        updated_at=now,
                    )
                )
            else:
                connection_id = new_id(now)
                conn.execute(
                    C.insert().values(
                        id=connection_id,
                        tenant=tenant,
                        type=flow["type"],
                        name=flow["name"],
                        status=OK,
                        secret=keyring.seal(kept, bound_to=_binding(tenant, connection_id)),
                        expires_at=expires_at,
                        refresh_until=None,
                        created_at=now,
                        updated_at=now,
                    )
                )
            return tenant, _record(self._row(conn, tenant, connection_id))

    finish_oauth = async_twin(finish_oauth_sync)

    def forget_oauth_sync(self, state: str) -> None:
        """Drop an OAuth flow the provider ended without a code (the user said no)."""
        with self._db.write() as conn:
            conn.execute(S.delete().where(S.c.state == state))

    forget_oauth = async_twin(forget_oauth_sync)

    # -- workflows ---------------------------------------------------------------------------------

    def problems_sync(self, tenant: str, workflow: Any) -> builtins.list[Problem]:
        """The problems of the connections `workflow` uses, against the tenant's: an id the tenant does
        not have is unknown (whoever has it), one of another type says the type the input takes."""
        check_tenant(tenant)
        if not uses(workflow, self._registry):
            return []
        with self._db.read() as conn:
            return self._problems_in(conn, tenant, workflow)

    problems = async_twin(problems_sync)

    def _problems_in(self, conn: Connection, tenant: str, workflow: Any) -> builtins.list[Problem]:
        """`problems_sync` inside a transaction of the caller's (the workflow store's publish)."""
        found = uses(workflow, self._registry)
        if not found:
            return []
        ids = sorted({use.connection_id for use in found if use.connection_id is not None})
        known: dict[str, tuple[str, str]] = {}
        if ids:
            query = sa.select(C.c.id, C.c.type, C.c.name).where(
                C.c.tenant == tenant, one_of(self._db.dialect, C.c.id, "ids")
            )
            known = {row.id: (row.type, row.name) for row in conn.execute(query, {"ids": ids})}
        names = {declared.type: declared.name for declared in self._types}
        return problems(found, known, names)

    def broken_sync(self, tenant: str, workflow_ids: Sequence[str]) -> dict[str, builtins.list[ConnectionRecord]]:
        """For each of these workflows, by id: the broken connections its draft uses (for "Reconnect")."""
        check_tenant(tenant)
        with self._db.read() as conn:
            broken = {
                row["id"]: _record(row)
                for row in conn.execute(C.select().where(C.c.tenant == tenant, C.c.status == BROKEN)).mappings()
            }
            if not broken or not workflow_ids:
                return {}
            query = sa.select(W.c.id, W.c.draft).where(W.c.tenant == tenant, one_of(self._db.dialect, W.c.id, "ids"))
            rows = conn.execute(query, {"ids": builtins.list(workflow_ids)}).all()
        found = {
            row.id: [broken[i] for i in sorted(connection_ids(row.draft, self._registry)) if i in broken]
            for row in rows
        }
        return {workflow_id: records for workflow_id, records in found.items() if records}

    broken = async_twin(broken_sync)

    # -- runs --------------------------------------------------------------------------------------

    def credentials_sync(self, tenant: str, wanted: Mapping[str, tuple[str, str]]) -> dict[str, Credential]:
        """The live credentials of a step's connection inputs, by input name (`wanted`: input ->
        (type, connection id)); an OAuth token about to expire is refreshed first. A connection that is
        broken, gone or not of the type raises `ConnectionUnavailable`, naming it where it can."""
        return self._credentials(tenant, wanted)

    credentials = async_twin(credentials_sync)

    def _credentials(self, tenant: str, wanted: Mapping[str, tuple[str, str]]) -> dict[str, Credential]:
        found: dict[str, Credential] = {}
        for input_name, (type_id, connection_id) in wanted.items():
            with self._db.read() as conn:
                row = self._find(conn, tenant, connection_id)
            declared = self._types.get(type_id)
            if row is None or row["type"] != type_id or declared is None:
                raise ConnectionUnavailable(
                    f"the connection chosen for {input_name!r} no longer exists: choose another"
                )
            if row["status"] == BROKEN:
                raise _broken(row["name"])
            secret = self._keyring().open(row["secret"], bound_to=_binding(tenant, connection_id))
            if declared.kind == "oauth2" and _due(row, self._clock.now_ms(), declared):
                secret = self._refresh(tenant, connection_id, declared)
            found[input_name] = Credential(
                id=connection_id, name=row["name"], type=type_id, secret=secret, headers=declared.authorization(secret)
            )
        return found

    def _refresh(self, tenant: str, connection_id: str, declared: ConnectionType) -> dict[str, Any]:
        """A fresh token: refreshed by this process if it claims the row first, else the one another
        refreshed (waited for). The claim is a conditional update against the sealed token read, so a
        token is refreshed once however many workers need it at once."""
        assert declared.oauth is not None
        keyring = self._keyring()
        binding = _binding(tenant, connection_id)
        deadline = time.monotonic() + REFRESH_WAIT_S
        while True:
            now = self._clock.now_ms()
            with self._db.read() as conn:
                row = self._find(conn, tenant, connection_id)
            if row is None:
                raise ConnectionUnavailable("a connection this step needs was deleted while it was being renewed")
            if row["status"] == BROKEN:
                raise _broken(row["name"])
            secret = keyring.open(row["secret"], bound_to=binding)
            if not _due(row, now, declared):
                return secret  # another worker renewed it
            with self._db.write() as conn:
                claimed = conn.execute(
                    C.update()
                    .where(
                        C.c.id == connection_id,
                        C.c.secret == row["secret"],
                        sa.or_(C.c.refresh_until.is_(None), C.c.refresh_until < now),
                    )
                    .values(refresh_until=now + REFRESH_CLAIM_MS)
                ).rowcount
            if claimed == 1:
                return self._renew(row, secret, declared, keyring)
            if time.monotonic() > deadline:
                raise ConnectionUnavailable(f"the connection {row['name']!r} could not be renewed in time: try again")
            time.sleep(0.05)  # another worker is renewing it: its new token is moments away

    def _renew(
        self, row: RowMapping, secret: dict[str, Any], declared: ConnectionType, keyring: Keyring
    ) -> dict[str, Any]:
        assert declared.oauth is not None
        connection_id, binding = row["id"], _binding(row["tenant"], row["id"])
        refresh_token = secret.get("refresh_token")
        try:
            if not isinstance(refresh_token, str):
                raise oauth.OAuthFailed("the provider gave no way to renew access", refused=True)
            token = oauth.refresh(declared.oauth, refresh_token)
        except oauth.OAuthFailed as exc:
            values: dict[str, Any] = {"refresh_until": None}
            if exc.refused:
                values["status"] = BROKEN
            with self._db.write() as conn:
                conn.execute(
                    C.update().where(C.c.id == connection_id).values(**values, updated_at=self._clock.now_ms())
                )
            if exc.refused:
                raise _broken(row["name"]) from None
            raise ConnectionRenewalError(f"the connection {row['name']!r} could not be renewed: {exc}") from None
        now = self._clock.now_ms()
        kept, expires_at = oauth.stored_token(token, now, secret)
        with self._db.write() as conn:
            conn.execute(
                C.update()
                .where(C.c.id == connection_id)
                .values(
                    secret=keyring.seal(kept, bound_to=binding),
                    expires_at=expires_at,
                    refresh_until=None,
                    updated_at=now,
                )
            )
        return kept

    # -- internals ---------------------------------------------------------------------------------

    def _type(self, type_id: str, kind: str) -> ConnectionType:
        declared = self._types.get(type_id)
        if declared is None or declared.kind != kind:
            kinds = "an API-key" if kind == "api_key" else "an OAuth 2.0"
            raise NotFoundError(f"no {kinds} connection type {type_id!r}")
        return declared

    def _find(self, conn: Connection, tenant: str, connection_id: str) -> RowMapping | None:
        return conn.execute(C.select().where(C.c.id == connection_id, C.c.tenant == tenant)).mappings().first()

    def _row(self, conn: Connection, tenant: str, connection_id: str) -> RowMapping:
        row = self._find(conn, tenant, connection_id)
        if row is None:
            raise NotFoundError(f"no connection {connection_id!r}")
        return row

    def _published(self, conn: Connection, tenant: str) -> builtins.list[tuple[str, str, dict[str, Any]]]:
        """(id, name, definition) of the latest published version of each of the tenant's workflows."""
        query = (
            sa.select(W.c.id, W.c.name, V.c.definition)
            .join(V, sa.and_(V.c.workflow_id == W.c.id, V.c.number == W.c.published_version))
            .where(W.c.tenant == tenant, V.c.tenant == tenant)
            .order_by(W.c.name)
        )
        return [(row.id, row.name, row.definition) for row in conn.execute(query)]


class ConnectionRenewalError(WorkflowKitError):
    """The provider could not be reached to renew a token: the step is retried."""

    code = "connection_renewal_failed"


def _broken(name: str) -> ConnectionUnavailable:
    return ConnectionUnavailable(
        f"the connection {name!r} stopped working: the provider refused to renew its access."
        " Reconnect it, then run again"
    )


def _due(row: RowMapping, now: int, declared: ConnectionType) -> bool:
    expires_at = row["expires_at"]
    return expires_at is not None and expires_at - now <= declared.refresh_margin_ms


def _binding(tenant: str, item_id: str) -> str:
    return f"{tenant}/{item_id}"


def _name(name: object) -> str:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH or "\x00" in name:
        raise ValueError(f"name: a connection's name is 1 to {MAX_NAME_LENGTH} characters")
    return name.strip()


async def _awaited(result: Any) -> Any:
    return await result


def _record(row: RowMapping) -> ConnectionRecord:
    return ConnectionRecord(
        id=row["id"],
        type=row["type"],
        name=row["name"],
        status=row["status"],
        expires_at=row["expires_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )
