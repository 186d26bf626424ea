"""The operator's commands of `scimd`: what an operator does by hand, through
the gateway's management API (never the database).

The gateway is SCIMD_URL (default: SCIMD_PUBLIC_URL, else
http://localhost:$SCIMD_HTTP_PORT); the project credentials come from
SCIMD_PROJECT_ID / SCIMD_PROJECT_SECRET, else from the data directory that
`scimd up` wrote them to.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import sys
from dataclasses import dataclass
from typing import Any, Mapping

import aiohttp
import orjson

from cli.credentials import FILE_NAME as CREDENTIALS_FILE
from runtime.settings import Settings
from runtime.shapes import IDENTITY_PROVIDERS

FOLLOW_INTERVAL_SECONDS = 2.0


class CommandFailed(Exception):
    pass


@dataclass(frozen=True)
class Gateway:
    url: str
    authorization: str

    @classmethod
    def from_environment(cls, settings: Settings, env: Mapping[str, str]) -> "Gateway":
        project_id, secret = env.get("SCIMD_PROJECT_ID", ""), env.get("SCIMD_PROJECT_SECRET", "")
        stored = settings.data_dir / CREDENTIALS_FILE
        if not (project_id and secret) and stored.exists():
            credentials = orjson.loads(stored.read_bytes())
            project_id, secret = credentials["project_id"], credentials["project_secret"]
        if not (project_id and secret):
            raise CommandFailed(
                f"no project credentials: set SCIMD_PROJECT_ID and SCIMD_PROJECT_SECRET, or SCIMD_DATA_DIR"
                f" to the data directory of `scimd up` (looked in {stored})"
            )
        token = base64.b64encode(f"{project_id}:{secret}".encode()).decode()
        return cls(env.get("SCIMD_URL") or settings.public_url, f"Basic {token}")

    async def call(self, http: aiohttp.ClientSession, method: str, path: str, body: Any = None,
                   params: dict | None = None) -> dict:
        try:
            async with http.request(method, self.url + path, json=body, params=params,
                                    headers={"Authorization": self.authorization}) as response:
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            raise CommandFailed(f"cannot reach the gateway at {self.url}: {error}") from None
        except ValueError:
            raise CommandFailed(f"{method} {path}: the gateway answered something that is not JSON") from None
        if response.status >= 400:
            raise CommandFailed(f"{method} {path}: {response.status} {answer.get('error_message', answer)}")
        return answer


def add_commands(commands: argparse._SubParsersAction) -> None:
    organizations = commands.add_parser("organizations", help="create and list organizations").add_subparsers(
        dest="action", required=True)
    create = organizations.add_parser("create", help="create an organization; prints its id")
    create.add_argument("name")
    create.add_argument("--slug", default="")
    organizations.add_parser("list", help="list organizations")

    connections = commands.add_parser("connections", help="SCIM connections").add_subparsers(
        dest="action", required=True)
    create = connections.add_parser("create", help="create an organization's SCIM connection; prints the token once")
    create.add_argument("organization_id")
    create.add_argument("--idp", choices=IDENTITY_PROVIDERS, default="generic", help="the customer's identity provider")
    create.add_argument("--name", default="", help="display name")
    listing = connections.add_parser("list", help="list connections (of one organization, or of all)")
    listing.add_argument("--organization", default="")
    rotate = connections.add_parser("rotate", help="rotate a connection's bearer token: start, then complete or cancel")
    rotate.add_argument("organization_id")
    rotate.add_argument("connection_id")
    rotate.add_argument("step", choices=("start", "complete", "cancel"))

    activity = commands.add_parser("activity", help="an organization's SCIM activity (its audit log), newest last")
    activity.add_argument("organization_id")
    activity.add_argument("--limit", type=int, default=20)
    activity.add_argument("--follow", action="store_true", help="keep printing new entries until Ctrl-C")

    webhooks = commands.add_parser("webhooks", help="webhook endpoints and deliveries").add_subparsers(
        dest="action", required=True)
    webhooks.add_parser("endpoints", help="list webhook endpoints")
    attempts = webhooks.add_parser("attempts", help="delivery attempts of an endpoint, or of one event")
    attempts.add_argument("--endpoint", default="", help="an endpoint id")
    attempts.add_argument("--event", default="", help="an event id (webhook-id)")
    attempts.add_argument("--limit", type=int, default=20)
    replay = webhooks.add_parser("replay", help="deliver again: one event, or an endpoint's events of a time range")
    replay.add_argument("--event", default="", help="an event id (webhook-id): to every endpoint, or --endpoint")
    replay.add_argument("--endpoint", default="", help="an endpoint id")
    replay.add_argument("--since", default="", help="with --endpoint: RFC 3339 start of the range")
    replay.add_argument("--until", default="", help="with --endpoint: RFC 3339 end of the range")

    commands.add_parser("health", help="whether the gateway and every service are ready (exit status 0 if so)")


async def run(args: argparse.Namespace, settings: Settings, env: Mapping[str, str]) -> int:
    try:
        if args.command == "health":
            return await _health(env.get("SCIMD_URL") or settings.public_url)
        gateway = Gateway.from_environment(settings, env)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            await _COMMANDS[(args.command, getattr(args, "action", None))](gateway, http, args)
        return 0
    except CommandFailed as error:
        print(f"scimd: {error}", file=sys.stderr)
        return 1


def _print(*lines: str) -> None:
    print("\n".join(lines), flush=True)


async def _health(url: str) -> int:
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
            async with http.get(f"{url}/readyz") as response:
                body = await response.json(content_type=None)
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
        print(f"scimd: the gateway at {url} does not answer: {error}", file=sys.stderr)
        return 1
    _print(f"gateway           {body.get('status')}  ({url})",
           *(f"{name:<17} {status}" for name, status in sorted(body.get("services", {}).items())),
           f"token revocations {body.get('token_revocations')}")
    return 0 if response.status == 200 else 1


async def _create_organization(gateway: Gateway, http: aiohttp.ClientSession, args) -> None:
    body = {"organization_name": args.name, **({"organization_slug": args.slug} if args.slug else {})}
    organization = (await gateway.call(http, "POST", "/v1/b2b/organizations", body))["organization"]
    _print(organization["organization_id"])


async def _organizations(gateway: Gateway, http: aiohttp.ClientSession) -> list[dict]:
    found, cursor = [], ""
    while True:
        page = await gateway.call(http, "GET", "/v1/b2b/organizations", params={"limit": "1000", "cursor": cursor})
        found += page["organizations"]
        cursor = page.get("next_cursor") or ""
        if not cursor:
            return found


async def _list_organizations(gateway: Gateway, http: aiohttp.ClientSession, args) -> None:
    for organization in await _organizations(gateway, http):
        _print(f"{organization['organization_id']}  {organization['organization_slug']:<24}  "
               f"{organization['organization_name']}")


async def _create_connection(gateway: Gateway, http: aiohttp.ClientSession, args) -> None:
    body = {"identity_provider": args.idp, "display_name": args.name or args.idp}
    connection = (await gateway.call(http, "POST", f"/v1/b2b/scim/{args.organization_id}/connection", body))["connection"]
    _print(f"connection id  {connection['connection_id']}",
           f"base URL       {connection['base_url']}",
           f"bearer token   {connection['bearer_token']}",
           "", "The token is shown only now: give it to the customer's IT admin, then forget it.")


async def _list_connections(gateway: Gateway, http: aiohttp.ClientSession, args) -> None:
    organization_ids = [args.organization] if args.organization else [
        o["organization_id"] for o in await _organizations(gateway, http)
    ]
    for organization_id in organization_ids:
        try:
            connection = (await gateway.call(http, "GET", f"/v1/b2b/scim/{organization_id}/connection"))["connection"]
        except CommandFailed:
            if args.organization:
                raise
            continue  # an organization without a connection
        _print(f"{organization_id}  {connection['connection_id']}  {connection['identity_provider']:<16}  "
               f"token …{connection['bearer_token_last_four']} expires {connection['bearer_token_expires_at']}"
               + (f"  next …{connection['next_bearer_token_last_four']}" if connection["next_bearer_token_last_four"]
                  else ""))


async def _rotate(gateway: Gateway, http: aiohttp.ClientSession, args) -> None:
    path = f"/v1/b2b/scim/{args.organization_id}/connection/{args.connection_id}/rotate/{args.step}"
    connection = (await gateway.call(http, "POST", path))["connection"]
    if args.step == "start":
        _print(f"next bearer token  {connection['next_bearer_token']}",
               "", "Both tokens work until `complete` (or `cancel`). The new one is shown only now.")
    else:
        _print(f"bearer token …{connection['bearer_token_last_four']} is now the connection's only token")


async def _activity(gateway: Gateway, http: aiohttp.ClientSession, args) -> None:
    path = f"/v1/b2b/organizations/{args.organization_id}/audit_log"
    seen: set[str] = set()
    while True:
        entries = (await gateway.call(http, "GET", path, params={"limit": str(max(args.limit, 1))}))["entries"]
        for entry in reversed(entries):  # the log is newest first; print oldest first
            if entry["audit_id"] in seen:
                continue
            seen.add(entry["audit_id"])
            _print(f"{entry['created_at']}  {entry['operation']:<7} {entry['resource_type']:<5} "
                   f"{entry['resource_id']}  {entry['result']}  [{', '.join(entry['changed_attributes'])}]"
                   f"  token {entry['token_id']}  {entry['request_id']}")
        if not args.follow:
            return
        await asyncio.sleep(FOLLOW_INTERVAL_SECONDS)  # polling, until the operator presses Ctrl-C


async def _endpoints(gateway: Gateway, http: aiohttp.ClientSession, args) -> None:
    for endpoint in (await gateway.call(http, "GET", "/v1/webhooks/endpoints", params={"limit": "1000"}))["endpoints"]:
        _print(f"{endpoint['endpoint_id']}  {'enabled ' if endpoint['enabled'] else 'disabled'}  {endpoint['url']}"
               f"  [{', '.join(endpoint['event_types']) or 'all events'}]")


async def _attempts(gateway: Gateway, http: aiohttp.ClientSession, args) -> None:
    if bool(args.endpoint) == bool(args.event):
        raise CommandFailed("give --endpoint or --event")
    path = (f"/v1/webhooks/endpoints/{args.endpoint}/attempts" if args.endpoint
            else f"/v1/webhooks/events/{args.event}/attempts")
    answer = await gateway.call(http, "GET", path, params={"limit": str(max(args.limit, 1))})
    for attempt in answer["attempts"]:
        _print(f"{attempt['attempted_at']}  {attempt['outcome']:<9} {attempt['status_code'] or '-':>3}"
               f"  {attempt['latency_ms']:>7} ms  {attempt['event_id']}  {attempt['endpoint_id']}"
               + (f"  next {attempt['next_attempt_at']}" if attempt["next_attempt_at"] else "")
               + (f"  {attempt['error']}" if attempt["error"] else ""))


async def _replay(gateway: Gateway, http: aiohttp.ClientSession, args) -> None:
    if args.event:
        body = {"endpoint_id": args.endpoint} if args.endpoint else {}
        answer = await gateway.call(http, "POST", f"/v1/webhooks/events/{args.event}/replay", body)
    elif args.endpoint and args.since and args.until:
        answer = await gateway.call(http, "POST", f"/v1/webhooks/endpoints/{args.endpoint}/replay",
                                    {"start_time": args.since, "end_time": args.until})
    else:
        raise CommandFailed("give --event, or --endpoint with --since and --until")
    _print(f"{answer['deliveries_scheduled']} deliveries scheduled")


_COMMANDS = {
    ("organizations", "create"): _create_organization,
    ("organizations", "list"): _list_organizations,
    ("connections", "create"): _create_connection,
    ("connections", "list"): _list_connections,
    ("connections", "rotate"): _rotate,
    ("activity", None): _activity,
    ("webhooks", "endpoints"): _endpoints,
    ("webhooks", "attempts"): _attempts,
    ("webhooks", "replay"): _replay,
}
