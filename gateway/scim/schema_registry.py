"""The SCIM resource types as this project has them: the core types with the
vendor's schema extensions, read from the directory and kept REFRESH_SECONDS.

A change made through this gateway is seen at once (`forget`); one made
through another gateway within REFRESH_SECONDS. When the directory cannot be
asked, the last types read serve on (the core types before any was read)."""

from __future__ import annotations

import asyncio
import logging
import time

import orjson
from scimd.directory.v1 import directory_service_pb2 as pb

from gateway.backends import Backends
from gateway.calls import call
from runtime.errors import ServiceError
from scim.errors import ScimError
from scim.extensions import Extension, parse_extension, with_extensions
from scim.schema import GROUP, USER, ResourceType, Schema

log = logging.getLogger(__name__)

REFRESH_SECONDS = 5.0
RETRY_SECONDS = 1.0


class SchemaRegistry:
    def __init__(self, backends: Backends):
        self._backends = backends
        self._extensions: list[Extension] = []
        self._types = {"User": USER, "Group": GROUP}
        self._read_at = float("-inf")
        self._reading = asyncio.Lock()

    async def resource_type(self, name: str) -> ResourceType:
        """"User" or "Group", with the vendor's extensions."""
        await self._fresh()
        return self._types[name]

    async def extension_schemas(self) -> list[Schema]:
        await self._fresh()
        return [extension.schema for extension in self._extensions]

    def forget(self) -> None:
        self._read_at = float("-inf")

    async def _fresh(self) -> None:
        if time.monotonic() - self._read_at < REFRESH_SECONDS:
            return
        async with self._reading:
            if time.monotonic() - self._read_at < REFRESH_SECONDS:
                return
            try:
                response = await call(self._backends.directory.ListSchemaExtensions(
                    pb.ListSchemaExtensionsRequest(), timeout=2.0))
                extensions = [parse_extension(e.resource_type, orjson.loads(e.definition_json))
                              for e in response.extensions]
            except (ServiceError, ScimError) as error:
                log.warning("could not read the schema extensions; serving the last ones read",
                            extra={"error": str(error)})
                # Ask again soon, not on every request meanwhile.
                self._read_at = time.monotonic() - REFRESH_SECONDS + RETRY_SECONDS
                return
            if extensions != self._extensions:  # the same types stay the same objects
                self._extensions = extensions
                self._types = {"User": with_extensions(USER, extensions), "Group": with_extensions(GROUP, extensions)}
            self._read_at = time.monotonic()
