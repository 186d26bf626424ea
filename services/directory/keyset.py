"""Keyset positions of sorted listings (members, groups): a page continues
after the last row's (sort value, created_at, id), so rows created or
deleted between pages never shift the rest, whatever the page's depth.

Listings order by `sort NULLS LAST, created_at, id`, ascending or all
descending; the condition below continues that order exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from runtime.errors import ServiceError
from runtime.paging import decode_page_token, encode_page_token

_NO_SORT = "-"


@dataclass(frozen=True)
class Position:
    created_at: datetime
    resource_id: str
    sorted: bool = False
    sort_value: Any = None

    def token(self) -> str:
        tag, value = _tagged(self.sort_value) if self.sorted else (_NO_SORT, None)
        return encode_page_token([tag, value or "", self.created_at.isoformat(), self.resource_id])

    def condition(self, sort_sql: str, descending: bool, id_column: str, next_parameter: int) -> tuple[str, list]:
        """The WHERE clause of the rows after this position, numbering its parameters from `next_parameter`."""
        after = "<" if descending else ">"
        tie = f"(created_at, {id_column}) {after} (${next_parameter}, ${next_parameter + 1})"
        params: list[Any] = [self.created_at, self.resource_id]
        if not sort_sql:
            return tie, params
        if self.sort_value is None:
            return f"(({sort_sql}) IS NULL AND {tie})", params
        value = f"${next_parameter + 2}"
        params.append(self.sort_value)
        return (f"(({sort_sql}) {after} {value} OR ({sort_sql}) = {value} AND {tie} OR ({sort_sql}) IS NULL)",
                params)


def position_of(token: str, *, sorted_by: bool) -> Position | None:
    """The position a token names; it must come from a listing sorted the same way."""
    key = decode_page_token(token, 4)
    if key is None:
        return None
    tag, value, created_at, resource_id = key
    if (tag != _NO_SORT) != sorted_by or not all(isinstance(part, str) for part in key):
        raise ServiceError("INVALID_PAGE_TOKEN", "page_token is not valid for this listing")
    try:
        return Position(datetime.fromisoformat(created_at), resource_id, sorted_by, _untagged(tag, value))
    except (TypeError, ValueError):
        raise ServiceError("INVALID_PAGE_TOKEN", "page_token is not valid") from None


def _tagged(value: Any) -> tuple[str, str]:
    """The value as a tag and a string (page tokens hold strings)."""
    if value is None:
        return "n", ""
    if isinstance(value, bool):
        return "b", "true" if value else "false"
    if isinstance(value, str):
        return "s", value
    if isinstance(value, datetime):
        return "t", value.isoformat()
    if isinstance(value, int):
        return "i", str(value)
    if isinstance(value, float):
        return "f", repr(value)
    if isinstance(value, Decimal):
        return "d", str(value)
    raise TypeError(f"cannot keep a sort value of type {type(value).__name__} in a page token")


_PARSERS = {
    _NO_SORT: lambda text: None,
    "n": lambda text: None,
    "b": {"true": True, "false": False}.__getitem__,
    "s": str,
    "t": datetime.fromisoformat,
    "i": int,
    "f": float,
    "d": Decimal,
}


def _untagged(tag: str, text: str) -> Any:
    try:
        return _PARSERS[tag](text)
    except (KeyError, ArithmeticError) as error:
        raise ValueError(tag) from error
