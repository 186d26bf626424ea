"""What every member write asks of attribute mappings: the custom attributes
of the member it writes, computed with its connection's mapping.

Each connection's mapping is read at most every REFRESH_SECONDS by each
process (the process that changes it forgets it at once); a member whose
stored values a newer mapping computed makes its writer read the mapping
again. What another process still writes with an older mapping meanwhile,
the background apply brings up to date (attribute_mapping_apply.py waits
REFRESH_SECONDS past a change before it calls itself done)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable

from runtime.tenant_scope import TenantPool
from runtime.ttl_cache import TtlCache
from scim.schema import ResourceType
from services.directory import attribute_mapping_repository as mappings
from services.directory.attribute_mapping import CustomField, Evaluator, Mapping, stored_mapping
from services.directory.custom_fields import CustomFieldRegistry
from services.directory.schema_extensions import ExtensionRegistry

REFRESH_SECONDS = 2.0
_MAX_COMPILED = 10_000


@dataclass(frozen=True)
class _Compiled:
    version: int
    definition: Any
    user_type: ResourceType
    fields: dict[str, CustomField]
    evaluator: Evaluator


class CustomAttributes:
    def __init__(self, pool: TenantPool, fields: CustomFieldRegistry, extensions: ExtensionRegistry):
        self._pool = pool
        self._fields = fields
        self._extensions = extensions
        self._stored: TtlCache[tuple[str, str], tuple[int, Any]] = TtlCache(REFRESH_SECONDS)
        self._compiled: dict[tuple[str, str], _Compiled] = {}

    async def evaluator(self, organization_id: str, connection_id: str, *, at_least: int = 0) -> Evaluator:
        """The connection's current mapping, compiled; read again when older than version `at_least`."""
        key = (organization_id, connection_id)

        def read() -> Awaitable[tuple[int, Any]]:
            return mappings.mapping_version(self._pool.of(organization_id), organization_id, connection_id)

        version, definition = await self._stored.get(key, read)
        if version < at_least:
            self._stored.forget(key)
            version, definition = await self._stored.get(key, read)
        user_type, fields = await self._extensions.user_type(), await self._fields.fields()
        compiled = self._compiled.get(key)
        if compiled is None or (compiled.version, compiled.definition) != (version, definition) \
                or compiled.user_type is not user_type or compiled.fields is not fields:
            compiled = _Compiled(version, definition, user_type, fields,
                                 Evaluator(stored_mapping(definition, fields), fields, user_type, version))
            if len(self._compiled) >= _MAX_COMPILED:
                self._compiled.clear()
            self._compiled[key] = compiled
        return compiled.evaluator

    async def compiled(self, mapping: Mapping, version: int = 0) -> Evaluator:
        """`mapping` ready to compute, with the project's fields and extensions as they are."""
        fields = await self._fields.fields()
        return Evaluator(mapping, fields, await self._extensions.user_type(), version)

    async def fields(self) -> dict[str, CustomField]:
        return await self._fields.fields()

    def forget(self, organization_id: str, connection_id: str) -> None:
        """Read the mapping again on the next write (this process changed it)."""
        self._stored.forget((organization_id, connection_id))
