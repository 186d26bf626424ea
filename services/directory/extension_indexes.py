"""Indexes for the vendor's matching attributes: each single-valued string
attribute of a User extension declared unique (`uniqueness` server or global,
the attributes an identity provider matches users on) gets an index on
(organization_id, connection_id, its value), in the form the compiled
`eq` filters use (filter_sql.index_probe, migration 0012), so that Entra's
`GET /Users?filter=urn:…:User:badgeId eq "…"` is an index lookup.

Built with CREATE INDEX CONCURRENTLY by one directory process at a time,
outside any transaction and as the schema's owner; indexes of attributes no
longer declared unique are dropped. A failed build leaves an invalid index,
which the next round drops and builds again."""

from __future__ import annotations

import hashlib
import logging

import asyncpg

from scim.extensions import Extension

log = logging.getLogger(__name__)

PREFIX = "members_ext_"
_LOCK = "directory.extension_indexes"


def wanted_indexes(extensions: list[Extension]) -> dict[str, tuple[str, str, str]]:
    """index name → (function, urn, attribute) for every matching attribute of the User extensions."""
    wanted = {}
    for extension in extensions:
        if extension.resource_type != "User":
            continue
        for attribute in extension.schema.attributes:
            if attribute.uniqueness == "none" or attribute.multi_valued or attribute.type not in ("string", "reference"):
                continue
            function = "scim_text" if attribute.case_exact else "scim_folded_text"
            digest = hashlib.sha256(f"{function}\x1f{extension.schema.id}\x1f{attribute.name}".encode()).hexdigest()
            wanted[f"{PREFIX}{digest[:24]}"] = (function, extension.schema.id, attribute.name)
    return wanted


async def ensure_extension_indexes(database_url: str, schema: str, extensions: list[Extension]) -> list[str]:
    """Builds the missing indexes and drops the unwanted or invalid ones; returns what it built."""
    wanted = wanted_indexes(extensions)
    conn = await asyncpg.connect(database_url, server_settings={"search_path": schema})
    built = []
    try:
        if not await conn.fetchval("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", _LOCK):
            return []  # another process is at it
        existing = {r["name"]: r["valid"] for r in await conn.fetch(
            "SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = $1 AND c.relname LIKE $2", schema, PREFIX + "%")}
        for name, valid in existing.items():
            if name not in wanted or not valid:
                await conn.execute(await conn.fetchval("SELECT format('DROP INDEX CONCURRENTLY IF EXISTS %I', $1::text)",
                                                       name))
        for name, (function, urn, attribute) in wanted.items():
            if existing.get(name):
                continue
            # format() quotes the URN and the name as literals: vendor-chosen text never becomes SQL.
            ddl = await conn.fetchval(
                "SELECT format('CREATE INDEX CONCURRENTLY IF NOT EXISTS %I ON members"
                " (organization_id, connection_id, %I(scim_attributes, %L, %L))', $1::text, $2::text, $3::text, $4::text)",
                name, function, urn, attribute)
            await conn.execute(ddl)
            built.append(name)
            log.info("built the index of a matching attribute", extra={"index": name, "urn": urn, "attribute": attribute})
    finally:
        await conn.close()  # ends the session, and with it the advisory lock
    return built
