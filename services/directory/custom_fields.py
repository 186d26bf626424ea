"""The vendor's custom member fields, stored in `custom_fields`: project-wide,
the same for every organization. Attribute mappings fill them. A field that
some connection maps keeps its type and is not deleted, so no stored value
ever stops matching its field.

Another replica's change reaches this one within REFRESH_SECONDS; the
replica that made it sees it at once."""

from __future__ import annotations

import asyncpg

from runtime.errors import ServiceError
from runtime.ttl_cache import TtlCache
from services.directory.attribute_mapping import CustomField, MappingError, check_field

REFRESH_SECONDS = 2.0
MAX_FIELDS = 100
_COLUMNS = "key, type, description, created_at, updated_at"


class CustomFieldRegistry:
    def __init__(self, pool: asyncpg.Pool):
        self._pool = pool
        self._cache: TtlCache[None, list[asyncpg.Record]] = TtlCache(REFRESH_SECONDS)
        self._fields: dict[str, CustomField] = {}
        self._from: list[asyncpg.Record] | None = None

    async def rows(self) -> list[asyncpg.Record]:
        return await self._cache.get(None, self._read)

    async def fields(self) -> dict[str, CustomField]:
        """key → field; the same object until the fields change."""
        rows = await self.rows()
        if rows is not self._from:
            self._fields = {r["key"]: CustomField(r["key"], r["type"], r["description"]) for r in rows}
            self._from = rows
        return self._fields

    def forget(self) -> None:
        self._cache.forget(None)

    async def _read(self) -> list[asyncpg.Record]:
        return await self._pool.fetch(f"SELECT {_COLUMNS} FROM custom_fields ORDER BY created_at, key")


def _checked(key: str, field_type: str, description: str) -> CustomField:
    try:
        return check_field(key, field_type, description)
    except MappingError as error:
        raise ServiceError("INVALID_VALUE", str(error)) from None


async def _mapped_by(conn: asyncpg.Connection, key: str) -> int:
    """How many connections, in any organization, map the field."""
    return await conn.fetchval("SELECT custom_field_mappings($1)", key)


async def put_field(pool: asyncpg.Pool, registry: CustomFieldRegistry, key: str, field_type: str,
                    description: str) -> tuple[asyncpg.Record, bool]:
    """Creates or replaces a field; (its row, created)."""
    wanted = _checked(key, field_type, description)
    async with pool.acquire() as conn, conn.transaction():
        existing = await conn.fetchrow(f"SELECT {_COLUMNS} FROM custom_fields WHERE key = $1 FOR UPDATE", key)
        if existing is None:
            # One creation at a time, so that two cannot both pass the count.
            await conn.execute("LOCK TABLE custom_fields IN SHARE ROW EXCLUSIVE MODE")
            if await conn.fetchval("SELECT count(*) FROM custom_fields") >= MAX_FIELDS:
                raise ServiceError("CONFLICT", f"at most {MAX_FIELDS} custom fields")
        elif (existing["type"], existing["description"]) == (wanted.type, wanted.description):
            return existing, False
        elif existing["type"] != wanted.type:
            mapped = await _mapped_by(conn, key)
            if mapped:
                raise ServiceError("CONFLICT", f"{key} is mapped by {mapped} connection(s) and keeps its type; "
                                               "remove it from their mappings first, or add another field")
        row = await conn.fetchrow(
            "INSERT INTO custom_fields (key, type, description) VALUES ($1, $2, $3)"
            " ON CONFLICT (key) DO UPDATE SET type = excluded.type, description = excluded.description,"
            f" updated_at = now() RETURNING {_COLUMNS}",
            key, wanted.type, wanted.description,
        )
    registry.forget()
    return row, existing is None


async def delete_field(pool: asyncpg.Pool, registry: CustomFieldRegistry, key: str) -> None:
    async with pool.acquire() as conn, conn.transaction():
        if await conn.fetchrow("SELECT key FROM custom_fields WHERE key = $1 FOR UPDATE", key) is None:
            raise ServiceError("NOT_FOUND", f"no custom field {key[:64]!r}")
        mapped = await _mapped_by(conn, key)
        if mapped:
            raise ServiceError("CONFLICT", f"{key} is mapped by {mapped} connection(s); remove it from their "
                                           "mappings first")
        await conn.execute("DELETE FROM custom_fields WHERE key = $1", key)
    registry.forget()


async def fields_for_mapping(conn: asyncpg.Connection) -> dict[str, CustomField]:
    """Inside a mapping's save: the fields as they are, kept (with their types)
    until it commits."""
    rows = await conn.fetch("SELECT key, type, description FROM custom_fields FOR SHARE")
    return {r["key"]: CustomField(r["key"], r["type"], r["description"]) for r in rows}
