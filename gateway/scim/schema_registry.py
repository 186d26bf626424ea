"""The SCIM resource types as this project has them: the core types with the
vendor's schema extensions, read from the directory and kept REFRESH_SECONDS.

A change made through this gateway is seen at once (`forget`); one made
through another gateway within REFRESH_SECONDS. When the directory cannot be
asked, the last types read serve on (the core types before any was read)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import orjson
from scimd.directory.v1 import directory_service_pb2 as pb

from gateway.backends import Backends
from gateway.calls import call
from runtime.errors import ServiceError
from runtime.ttl_cache import TtlCache
from scim.errors import ScimError
from scim.extensions import Extension, parse_extension, with_extensions
from scim.schema import GROUP, USER, ResourceType, Schema

log = logging.getLogger(__name__)

REFRESH_SECONDS = 5.0


@dataclass(frozen=True)
class _Types:
    extensions: tuple[Extension, ...]
    by_name: dict[str, ResourceType]


_CORE = _Types((), {"User": USER, "Group": GROUP})


class SchemaRegistry:
    def __init__(self, backends: Backends):
        self._backends = backends
        self._cache: TtlCache[None, _Types] = TtlCache(REFRESH_SECONDS)
        self._last = _CORE

    async def resource_type(self, name: str) -> ResourceType:
        """"User" or "Group", with the vendor's extensions."""
        return (await self._types()).by_name[name]

    async def extension_schemas(self) -> list[Schema]:
        return [extension.schema for extension in (await self._types()).extensions]

    def forget(self) -> None:
        self._cache.forget(None)

    async def _types(self) -> _Types:
        return await self._cache.get(None, self._load)

    async def _load(self) -> _Types:
        try:
            response = await call(self._backends.directory.ListSchemaExtensions(
                pb.ListSchemaExtensionsRequest(), timeout=2.0))
            extensions = tuple(parse_extension(e.resource_type, orjson.loads(e.definition_json))
                               for e in response.extensions)
        except (ServiceError, ScimError) as error:
            log.warning("could not read the schema extensions; serving the last ones read",
                        extra={"error": str(error)})
            return self._last
        if extensions != self._last.extensions:  # the same types stay the same objects
            self._last = _Types(extensions, {"User": with_extensions(USER, extensions),
                                             "Group": with_extensions(GROUP, extensions)})
        return self._last
