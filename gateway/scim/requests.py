"""Parsing the parts of SCIM requests shared by every resource type:
list queries (RFC 7644 §3.4.2, §3.4.3) and version preconditions (§3.14)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from runtime.errors import ServiceError
from scim.schema import SEARCH_REQUEST, check_schemas

MAX_RESULTS = 1000
DEFAULT_COUNT = 100


@dataclass(frozen=True)
class ListQuery:
    filter: str = ""
    sort_by: str = ""
    descending: bool = False
    start_index: int = 1
    count: int = DEFAULT_COUNT
    attributes: str = ""
    excluded_attributes: str = ""
    # RFC 9865: None pages by index; "" asks for the first page by cursor.
    cursor: str | None = None


# Skipping is an int32 in the directory's API; no connection holds that many resources.
MAX_START_INDEX = 2**31 - 1


def _integer(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise ServiceError("INVALID_VALUE", f"{name} must be an integer")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        raise ServiceError("INVALID_VALUE", f"{name} must be an integer") from None


def _text(value: Any, name: str, *, array: bool = False) -> str:
    if value is None:
        return ""
    if array and isinstance(value, list):  # a SearchRequest sends attributes as an array
        if not all(isinstance(v, str) for v in value):
            raise ServiceError("INVALID_VALUE", f"{name} must be strings")
        return ",".join(value)
    if not isinstance(value, str):
        raise ServiceError("INVALID_VALUE", f"{name} must be a string")
    return value


def search_request(body: dict[str, Any]) -> ListQuery:
    """The list query of a SearchRequest body (RFC 7644 §3.4.3)."""
    check_schemas(body, SEARCH_REQUEST)
    return list_query(body)


def list_query(source: Mapping[str, Any]) -> ListQuery:
    """A list query from URL parameters or a SearchRequest body; names match without case."""
    params = {str(key).lower(): value for key, value in source.items()}
    start_index = _integer(params["startindex"], "startIndex") if "startindex" in params else 1
    count = _integer(params["count"], "count") if "count" in params else DEFAULT_COUNT
    cursor = _cursor(params, count)
    sort_order = _text(params.get("sortorder"), "sortOrder").lower() or "ascending"
    if sort_order not in ("ascending", "descending"):
        raise ServiceError("INVALID_VALUE", "sortOrder must be ascending or descending")
    return ListQuery(
        filter=_text(params.get("filter"), "filter"),
        sort_by=_text(params.get("sortby"), "sortBy"),
        descending=sort_order == "descending",
        # RFC 7644 §3.4.2.4: less than 1 is interpreted as 1; past every result, nothing is returned.
        start_index=min(max(start_index, 1), MAX_START_INDEX),
        count=min(max(count, 0), MAX_RESULTS),  # negative is 0; more than the maximum is the maximum
        attributes=_text(params.get("attributes"), "attributes", array=True),
        excluded_attributes=_text(params.get("excludedattributes"), "excludedAttributes", array=True),
        cursor=cursor,
    )


def _cursor(params: dict[str, Any], count: int) -> str | None:
    """The cursor of a cursor-paged query (RFC 9865 §2), else None."""
    if "cursor" not in params:
        return None
    if "startindex" in params:
        raise ServiceError("INVALID_VALUE", "startIndex and cursor cannot be combined: page by one or the other")
    if not 1 <= count <= MAX_RESULTS:
        raise ServiceError("INVALID_COUNT", f"count must be between 1 and {MAX_RESULTS} when paging by cursor")
    return _text(params["cursor"], "cursor")


def version_of(header: str | None) -> str:
    """The etag a client's If-Match / If-None-Match names: W/"3" → "3"; "*" or none → ""."""
    if not header:
        return ""
    # aiohttp keeps bytes that are not UTF-8 as lone surrogates, which protobuf
    # refuses; as U+FFFD they make a version that matches none.
    header = header.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    value = header.split(",")[0].strip()
    if value == "*":
        return ""
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"')
