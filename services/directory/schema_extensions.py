"""The vendor's schema extensions as the directory uses them: stored in
`schema_extensions`, parsed into scim.schema data, and cached, so that every
write, filter and PATCH sees the User and Group types with them. A change is checked
against every value already stored under the extension before it is saved.

Another replica's change reaches this one within REFRESH_SECONDS; the
replica that made it sees it at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import asyncpg

from runtime.errors import ServiceError
from runtime.event_catalog import SCHEMA_EXTENSION_DELETE, SCHEMA_EXTENSION_UPDATE
from runtime.outbox import QueuedEvent, enqueue_all
from runtime.ttl_cache import TtlCache
from scim.errors import ScimError
from scim.extensions import (
    MAX_EXTENSIONS_PER_TYPE,
    RESOURCE_TYPES,
    Extension,
    extension_json,
    parse_extension,
    with_extensions,
)
from scim.schema import GROUP, USER, ResourceType
from scim.users import check_required_extension_attributes, normalize_extension

REFRESH_SECONDS = 5.0
CHECK_BATCH = 1000
_COLUMNS = "schema_id, resource_type, definition, version, created_at, updated_at"


@dataclass(frozen=True)
class Stored:
    extension: Extension
    row: asyncpg.Record


@dataclass(frozen=True)
class _Read:
    stored: list[Stored]
    user: ResourceType
    group: ResourceType


class ExtensionRegistry:
    """The project's extensions, read at most every REFRESH_SECONDS."""

    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool
        self._cache: TtlCache[None, _Read] = TtlCache(REFRESH_SECONDS)

    async def user_type(self) -> ResourceType:
        return (await self._read()).user

    async def group_type(self) -> ResourceType:
        return (await self._read()).group

    async def stored(self) -> list[Stored]:
        return (await self._read()).stored

    def forget(self) -> None:
        """Read again on the next use (after this replica changed an extension)."""
        self._cache.forget(None)

    async def _read(self) -> _Read:
        return await self._cache.get(None, self._load)

    async def _load(self) -> _Read:
        rows = await self._pool.fetch(f"SELECT {_COLUMNS} FROM schema_extensions ORDER BY created_at, schema_id")
        stored = [Stored(parse_extension(r["resource_type"], r["definition"]), r) for r in rows]
        extensions = [s.extension for s in stored]
        return _Read(stored, with_extensions(USER, extensions), with_extensions(GROUP, extensions))


# Builds the event of a change: (event type, the extension's row, created) → the event to queue with it.
ChangeEvent = Callable[[str, asyncpg.Record, bool], QueuedEvent]


async def put_extension(pool: asyncpg.Pool, registry: ExtensionRegistry, resource_type: str,
                        definition: Any, change_event: ChangeEvent) -> tuple[asyncpg.Record, bool]:
    """Creates or replaces the extension `definition` declares, with its
    scim.schema_extension.update event; (its row, created)."""
    try:
        extension = parse_extension(resource_type, definition)
    except ScimError as error:
        raise ServiceError("INVALID_VALUE", error.message) from None
    canonical = extension_json(extension)
    async with pool.acquire() as conn, conn.transaction():
        # One change at a time: a check against stored values must not race another change.
        await conn.execute("LOCK TABLE schema_extensions IN SHARE ROW EXCLUSIVE MODE")
        existing = await conn.fetchrow(f"SELECT {_COLUMNS} FROM schema_extensions WHERE lower(schema_id) = lower($1)",
                                       extension.schema.id)
        if existing is not None and existing["resource_type"] != resource_type:
            raise ServiceError("CONFLICT", f"{existing['schema_id']} extends {existing['resource_type']}; "
                                           "delete it first to extend another resource type")
        if existing is None:
            count = await conn.fetchval("SELECT count(*) FROM schema_extensions WHERE resource_type = $1", resource_type)
            if count >= MAX_EXTENSIONS_PER_TYPE:
                raise ServiceError("CONFLICT", f"at most {MAX_EXTENSIONS_PER_TYPE} extensions of {resource_type}")
        elif existing["definition"] == canonical:
            return existing, False
        else:
            await _check_stored_values(conn, extension, existing["schema_id"])
        row = await conn.fetchrow(
            "INSERT INTO schema_extensions (schema_id, resource_type, definition) VALUES ($1, $2, $3)"
            " ON CONFLICT (schema_id) DO UPDATE SET definition = excluded.definition,"
            " version = schema_extensions.version + 1, updated_at = now()"
            f" RETURNING {_COLUMNS}",
            existing["schema_id"] if existing else extension.schema.id, resource_type, canonical,
        )
        await enqueue_all(conn, [change_event(SCHEMA_EXTENSION_UPDATE, row, existing is None)])
    registry.forget()
    return row, existing is None


async def delete_extension(pool: asyncpg.Pool, registry: ExtensionRegistry, schema_id: str,
                           change_event: ChangeEvent) -> None:
    """Deletes the extension, with its scim.schema_extension.delete event."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            f"DELETE FROM schema_extensions WHERE lower(schema_id) = lower($1) RETURNING {_COLUMNS}", schema_id)
        if row is None:
            raise ServiceError("NOT_FOUND", f"no schema extension {schema_id[:200]!r}")
        await enqueue_all(conn, [change_event(SCHEMA_EXTENSION_DELETE, row, False)])
    registry.forget()


# Each resource type's stored values: (the SQL function reading them, its id column, what one is called).
_STORED_VALUES = {"User": ("extension_values", "member_id", "member"),
                  "Group": ("group_extension_values", "group_id", "group")}


async def _check_stored_values(conn: asyncpg.Connection, extension: Extension, stored_urn: str) -> None:
    """Every value stored under the extension must still be valid under its new
    definition; the first that is not names the change as refused."""
    resource_type = with_extensions(RESOURCE_TYPES[extension.resource_type], [extension])
    function, id_column, called = _STORED_VALUES[extension.resource_type]
    after = ("", "")  # (organization_id, id): the functions page in key order
    while True:
        rows = await conn.fetch(f"SELECT * FROM {function}($1, $2, $3, $4)", stored_urn, *after, CHECK_BATCH)
        for row in rows:
            try:
                dropped = [key for key in (row["value"] if isinstance(row["value"], dict) else {})
                           if extension.schema.attribute(key) is None]
                if dropped:
                    raise ScimError("invalidValue", f"{dropped[0]} is no longer declared, so its value would be lost")
                normalized = normalize_extension(extension.schema, row["value"])
                check_required_extension_attributes(resource_type, {extension.schema.id: normalized})
            except ScimError as error:
                raise ServiceError(
                    "CONFLICT", f"{called} {row[id_column]} of organization {row['organization_id']} holds a value "
                                f"the new definition refuses ({error.message}); change or clear such values first, "
                                f"or add the attribute under a new name") from None
        if len(rows) < CHECK_BATCH:
            return
        after = (rows[-1]["organization_id"], rows[-1][id_column])
