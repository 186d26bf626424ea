"""Which attribute paths a connection's identity provider sends, never their
values: the list an admin picks from when mapping attributes, and what a
vendor may want to declare. Written after a member's write, at most once per
path every RECORD_INTERVAL_SECONDS by each process; a failure to write it
costs the write nothing."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Iterator

import asyncpg

from runtime.tenant_scope import OrganizationScope
from scim.schema import ResourceType

log = logging.getLogger(__name__)

RECORD_INTERVAL_SECONDS = 60.0
MAX_PATHS_PER_WRITE = 200
MAX_PATHS_PER_CONNECTION = 500
_MAX_REMEMBERED = 100_000


@dataclass(frozen=True)
class SeenPath:
    path: str
    locator: str  # jsonpath over {"declared": …, "undeclared": …}
    json_type: str


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "string" if isinstance(value, str) else "null"


def _key(name: str) -> str:
    return json.dumps(name)  # a jsonpath key literal: JSON's escapes


def seen_paths(resource_type: ResourceType, declared: dict[str, Any], undeclared: dict[str, Any]) -> list[SeenPath]:
    """The paths of a member's attributes: `declared` as normalized (canonical
    names), `undeclared` as sent."""
    found = list(_declared_paths(resource_type, declared)) + list(_undeclared_paths(undeclared))
    return found[:MAX_PATHS_PER_WRITE]


def _declared_paths(resource_type: ResourceType, attributes: dict[str, Any]) -> Iterator[SeenPath]:
    extensions = set(resource_type.schema_urns[1:])
    for name, value in attributes.items():
        if name in extensions and isinstance(value, dict):
            for attribute, inner in value.items():
                yield from _below(f"{name}:{attribute}", f'$."declared".{_key(name)}.{_key(attribute)}', inner)
        else:
            yield from _below(name, f'$."declared".{_key(name)}', value)


def _undeclared_paths(attributes: dict[str, Any]) -> Iterator[SeenPath]:
    for name, value in attributes.items():
        if name.lower().startswith("urn:") and isinstance(value, dict):  # an undeclared extension's object
            for attribute, inner in value.items():
                yield from _below(f"{name}:{attribute}", f'$."undeclared".{_key(name)}.{_key(attribute)}', inner)
        else:
            yield from _below(name, f'$."undeclared".{_key(name)}', value)


def _below(path: str, locator: str, value: Any) -> Iterator[SeenPath]:
    """The path itself, and one level of sub-attributes (of each element of a list)."""
    yield SeenPath(path, locator, _json_type(value))
    elements = value if isinstance(value, list) else [value]
    subs: dict[str, Any] = {}
    for element in elements:
        if isinstance(element, dict):
            for sub, inner in element.items():
                subs.setdefault(sub, inner)
    each = "[*]" if isinstance(value, list) else ""
    for sub, inner in subs.items():
        yield SeenPath(f"{path}.{sub}", f"{locator}{each}.{_key(sub)}", _json_type(inner))


class SeenAttributeRecorder:
    def __init__(self) -> None:
        self._recorded: dict[tuple[str, str, str, str], float] = {}

    async def record(self, db: OrganizationScope, organization_id: str, connection_id: str,
                     paths: list[SeenPath]) -> None:
        now = time.monotonic()
        due = [p for p in paths
               if now - self._recorded.get((organization_id, connection_id, p.path, p.json_type), -1e9)
               >= RECORD_INTERVAL_SECONDS]
        if not due:
            return
        if len(self._recorded) > _MAX_REMEMBERED:
            self._recorded.clear()
        try:
            await db.execute(
                "INSERT INTO seen_attributes (organization_id, connection_id, path, locator, json_type)"
                " SELECT $1, $2, p.path, p.locator::jsonpath, p.json_type"
                " FROM unnest($3::text[], $4::text[], $5::text[]) AS p(path, locator, json_type)"
                " WHERE (SELECT count(*) FROM seen_attributes s WHERE s.organization_id = $1"
                "        AND s.connection_id = $2) < $6"
                "    OR EXISTS (SELECT 1 FROM seen_attributes s WHERE s.organization_id = $1"
                "               AND s.connection_id = $2 AND s.path = p.path)"
                " ON CONFLICT (organization_id, connection_id, path) DO UPDATE SET locator = excluded.locator,"
                " json_type = excluded.json_type, last_seen_at = now()",
                organization_id, connection_id, [p.path for p in due], [p.locator for p in due],
                [p.json_type for p in due], MAX_PATHS_PER_CONNECTION,
            )
        except (asyncpg.PostgresError, OSError, asyncpg.InterfaceError) as error:
            log.warning("could not record the attribute paths a connection sent", extra={"error": repr(error)})
            return
        for p in due:
            self._recorded[(organization_id, connection_id, p.path, p.json_type)] = now


async def list_seen(db: OrganizationScope, organization_id: str, connection_id: str) -> list[dict[str, Any]]:
    """The connection's seen paths, with how many of its members carry each now."""
    rows = await db.fetch(
        "SELECT path, locator::text AS locator, json_type, last_seen_at FROM seen_attributes"
        " WHERE organization_id = $1 AND connection_id = $2 ORDER BY path LIMIT $3",
        organization_id, connection_id, MAX_PATHS_PER_CONNECTION,
    )
    if not rows:
        return []
    counts = await db.fetchrow(
        "SELECT " + ", ".join(f"count(*) FILTER (WHERE jsonb_path_exists(doc, ${n + 3}::jsonpath)) AS c{n}"
                              for n in range(len(rows)))
        + " FROM (SELECT jsonb_build_object('declared', scim_attributes, 'undeclared',"
          " coalesce(undeclared_attributes, '{}'::jsonb)) AS doc FROM members"
          " WHERE organization_id = $1 AND connection_id = $2 AND status <> 'deleted') AS m",
        organization_id, connection_id, *(r["locator"] for r in rows),
    )
    return [{**dict(r), "member_count": counts[f"c{n}"]} for n, r in enumerate(rows)]


async def forget_connection(conn: asyncpg.Connection, organization_id: str, connection_id: str) -> None:
    await conn.execute("DELETE FROM seen_attributes WHERE organization_id = $1 AND connection_id = $2",
                       organization_id, connection_id)


async def forget_organization(conn: asyncpg.Connection, organization_id: str) -> None:
    await conn.execute("DELETE FROM seen_attributes WHERE organization_id = $1", organization_id)
