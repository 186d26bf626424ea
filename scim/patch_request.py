"""The PatchOp request envelope (RFC 7644 §3.5.2), parsed once for every
resource type: schemas, Operations, and each operation's op/path/value, with
names matched without case."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scim.errors import ScimError
from scim.schema import PATCH_OP, check_schemas

MAX_OPERATIONS = 1000
_OPS = ("add", "remove", "replace")


@dataclass(frozen=True)
class PatchOperation:
    op: str  # add, remove or replace
    path: str | None
    value: Any
    has_value: bool


def lower_keys(mapping: dict[Any, Any]) -> dict[str, Any]:
    """The string keys of a JSON object, lower-cased (names match without case)."""
    return {key.lower(): value for key, value in mapping.items() if isinstance(key, str)}


def patch_operations(body: Any, max_operations: int = MAX_OPERATIONS) -> list[PatchOperation]:
    """The operations of a PatchOp body (at most `max_operations`), or INVALID_SYNTAX / INVALID_PATH."""
    if not isinstance(body, dict):
        raise ScimError("invalidSyntax", "a PATCH body must be a JSON object")
    check_schemas(body, PATCH_OP)
    envelope = lower_keys(body)
    raw_operations = envelope.get("operations")
    if not isinstance(raw_operations, list) or not raw_operations:
        raise ScimError("invalidSyntax", "Operations must be a non-empty array")
    if len(raw_operations) > max_operations:
        raise ScimError("invalidSyntax", f"at most {max_operations} operations are accepted per request")
    operations = []
    for index, raw in enumerate(raw_operations):
        if not isinstance(raw, dict):
            raise ScimError("invalidSyntax", f"Operations[{index}] must be an object")
        fields = lower_keys(raw)
        op = fields.get("op")
        if not isinstance(op, str) or op.strip().lower() not in _OPS:
            raise ScimError("invalidSyntax", f"Operations[{index}].op must be add, remove or replace")
        path = fields.get("path")
        if path is not None and not isinstance(path, str):
            raise ScimError("invalidPath", f"Operations[{index}].path must be a string")
        operations.append(
            PatchOperation(op.strip().lower(), (path or "").strip() or None, fields.get("value"), "value" in fields)
        )
    return operations
