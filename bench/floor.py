"""The floor of scimd's fixed shape (issue 20): what a SCIM create and a get
cost on this machine when built from the same parts and nothing else, so that
scimd's own figures can be read against it.

The skeleton has scimd's processes and messages, with none of scimd's logic:
- `front` (the gateway's place): aiohttp; POST /Users reads the JSON body and
  makes one gRPC call; GET /Users/{id} makes one gRPC call. No auth, no
  validation, no request log.
- `store` (the directory's place): a grpc.aio server on asyncpg. A create is
  one statement that inserts the user and its outbox row; a get is one SELECT.
  Its outbox relay (woken in-process, 3 ms batching window as scimd's) reads a
  batch, publishes each row to JetStream, awaits the acks and deletes the batch.
- `deliver` (the webhooks service's place): one JetStream pull consumer that
  POSTs each event to the receiver over a kept-alive connection and acks it. No
  delivery rows, no order per resource, no retries, no signatures, no rbac.

It starts its own PostgreSQL and NATS (the embedded ones `make run` uses, in a
temporary directory), so every CPU second of the system is its own: the load
generator and the receiver run in this process and are not counted.

    .venv/bin/python -m bench.floor --rate 250 --seconds 10 --gets 6000

Every loop is bounded by a count or a deadline; everything is on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import orjson
from aiohttp import web

from bench.calibration import calibration_line
from bench.process_cpu import SystemCpu, spent
from cli.embedded import EmbeddedNats, EmbeddedPostgres
from cli.processes import free_port
from runtime.event_loop import run_event_loop

_CREATE = "/floor.Store/Create"
_GET = "/floor.Store/Get"
_LIST = "/floor.Store/List"
PAGE = 100
_STREAM, _SUBJECT = "FLOOR", "floor.events"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS floor_members (id uuid PRIMARY KEY, body jsonb NOT NULL);
CREATE TABLE IF NOT EXISTS floor_outbox (id bigserial PRIMARY KEY, payload bytea NOT NULL);
"""
RELAY_BATCH_WINDOW_SECONDS = 0.003
RELAY_BATCH = 256
FETCH_BATCH = 256
JSON = "application/scim+json"


async def _store(database_url: str, nats_url: str, port: int) -> None:
    import asyncpg
    import grpc
    import nats

    pool = await asyncpg.create_pool(database_url, min_size=4, max_size=16)
    jetstream_client = await nats.connect(nats_url)
    jetstream = jetstream_client.jetstream()
    written = asyncio.Event()

    async def create(request: bytes, context) -> bytes:
        user = orjson.loads(request)
        user["id"] = str(uuid.uuid4())
        body = orjson.dumps(user)
        event = orjson.dumps({"type": "member.create", "id": str(uuid.uuid4()), "timestamp": time.time(),
                              "data": user})
        await pool.execute("WITH member AS (INSERT INTO floor_members (id, body) VALUES ($1, $2::jsonb)) "
                           "INSERT INTO floor_outbox (payload) VALUES ($3)", user["id"], body.decode(), event)
        written.set()
        return body

    async def get(request: bytes, context) -> bytes:
        body = await pool.fetchval("SELECT body::text FROM floor_members WHERE id = $1", request.decode())
        if body is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such user")
        return body.encode()

    async def list_page(request: bytes, context) -> bytes:
        start = int(request)
        row = await pool.fetchrow(
            "SELECT (SELECT count(*) FROM floor_members) AS total, (SELECT coalesce(json_agg(body), '[]')::text"
            " FROM (SELECT body FROM floor_members ORDER BY id OFFSET $1 LIMIT $2) page) AS page", start, PAGE)
        return orjson.dumps({"total": row["total"], "page": orjson.loads(row["page"])})

    async def relay() -> None:
        async with pool.acquire() as connection:
            while True:
                await written.wait()
                written.clear()
                await asyncio.sleep(RELAY_BATCH_WINDOW_SECONDS)
                while rows := await connection.fetch(
                        "SELECT id, payload FROM floor_outbox ORDER BY id LIMIT $1", RELAY_BATCH):
                    await asyncio.gather(*(jetstream.publish(_SUBJECT, row["payload"]) for row in rows))
                    await connection.execute("DELETE FROM floor_outbox WHERE id = ANY($1::bigint[])",
                                             [row["id"] for row in rows])

    server = grpc.aio.server()
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("floor.Store", {
        "Create": grpc.unary_unary_rpc_method_handler(create),
        "Get": grpc.unary_unary_rpc_method_handler(get),
        "List": grpc.unary_unary_rpc_method_handler(list_page),
    }),))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    relaying = asyncio.create_task(relay())
    await server.wait_for_termination()
    relaying.cancel()


async def _front(store_address: str, port: int) -> None:
    import grpc

    channel = grpc.aio.insecure_channel(store_address)
    create, get, list_page = channel.unary_unary(_CREATE), channel.unary_unary(_GET), channel.unary_unary(_LIST)

    async def create_user(request: web.Request) -> web.Response:
        user = orjson.loads(await request.read())
        body = await create(orjson.dumps(user))
        return web.Response(status=201, body=body, content_type=JSON)

    async def get_user(request: web.Request) -> web.Response:
        try:
            body = await get(request.match_info["id"].encode())
        except grpc.aio.AioRpcError as error:
            return web.Response(status=404 if error.code() == grpc.StatusCode.NOT_FOUND else 503)
        return web.Response(body=body, content_type=JSON)

    async def list_users(request: web.Request) -> web.Response:
        start = int(request.query.get("startIndex", "1"))
        found = orjson.loads(await list_page(str(start - 1).encode()))
        return web.Response(body=orjson.dumps({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": found["total"],
            "startIndex": start, "itemsPerPage": len(found["page"]), "Resources": found["page"],
        }), content_type=JSON)

    app = web.Application()
    app.router.add_get("/Users", list_users)
    app.router.add_post("/Users", create_user)
    app.router.add_get("/Users/{id}", get_user)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


async def _deliver(nats_url: str, receiver_url: str) -> None:
    import nats
    from nats.errors import TimeoutError as FetchTimeout

    client = await nats.connect(nats_url)
    subscription = await client.jetstream().pull_subscribe(_SUBJECT, durable="floor-deliver", stream=_STREAM)
    async with aiohttp.ClientSession() as http:
        async def send(message) -> None:
            async with http.post(receiver_url, data=message.data, headers={"content-type": "application/json"}) as r:
                await r.read()
            await message.ack()

        while True:
            try:
                messages = await subscription.fetch(FETCH_BATCH, timeout=1)
            except (FetchTimeout, asyncio.TimeoutError):
                continue
            await asyncio.gather(*(send(message) for message in messages))


class _Receiver:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.arrived = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        event = orjson.loads(await request.read())
        self.latencies.append(time.time() - event["timestamp"])
        self.arrived.set()
        return web.Response(text="ok")

    async def wait_for(self, count: int, deadline_s: float) -> None:
        deadline = time.monotonic() + deadline_s
        while len(self.latencies) < count and time.monotonic() < deadline:
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), max(0.01, deadline - time.monotonic()))
            except asyncio.TimeoutError:
                break


def _role_command(role: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "bench.floor", "--role", role, *args]


async def _wait_serving(url: str, deadline_s: float = 30.0) -> None:
    deadline = time.monotonic() + deadline_s
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(url) as response:
                    if response.status == 404:  # the store answered through the front
                        return
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"the skeleton did not serve {url}")
            await asyncio.sleep(0.1)  # readiness poll with a deadline


async def _creates(http: aiohttp.ClientSession, url: str, rate: float, seconds: float) -> list[str]:
    """POSTs at `rate` per second for `seconds`; the ids created."""
    ids: list[str] = []
    started = time.monotonic()
    pending = set()

    async def one(n: int) -> None:
        body = orjson.dumps({"userName": f"user-{n}@example.com", "name": {"givenName": "A", "familyName": "B"},
                             "emails": [{"value": f"user-{n}@example.com", "primary": True}], "active": True})
        async with http.post(f"{url}/Users", data=body, headers={"content-type": JSON}) as response:
            ids.append(orjson.loads(await response.read())["id"])

    for n in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
        task = asyncio.create_task(one(n))
        pending.add(task)
        task.add_done_callback(pending.discard)
    await asyncio.gather(*pending)
    return ids


async def _gets(http: aiohttp.ClientSession, urls: list[str], count: int, concurrency: int = 16) -> float:
    """`count` GETs of the `urls` in turn, `concurrency` at a time; the rate per second."""
    started = time.monotonic()

    async def worker(offset: int) -> None:
        for n in range(offset, count, concurrency):
            async with http.get(urls[n % len(urls)]) as response:
                assert response.status == 200, response.status
                await response.read()

    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return count / (time.monotonic() - started)


def _split(cpu: dict[str, float], per: int) -> str:
    total = sum(cpu.values())
    parts = ", ".join(f"{name} {seconds * 1000 / per:.2f}" for name, seconds in
                      sorted(cpu.items(), key=lambda item: -item[1]))
    return f"{total * 1000 / per:.2f} ms ({parts})"


async def _bench(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="scimd-floor-") as data:
        postgres, jetstream_server = EmbeddedPostgres(Path(data), "floor"), EmbeddedNats(Path(data))
        database_url, nats_url = await postgres.start(), await jetstream_server.start()
        children: list[subprocess.Popen] = []
        try:
            import asyncpg
            import nats
            connection = await asyncpg.connect(database_url)
            await connection.execute(_SCHEMA)
            await connection.close()
            client = await nats.connect(nats_url)
            await client.jetstream().add_stream(name=_STREAM, subjects=[_SUBJECT])
            await client.close()

            receiver = _Receiver()
            app = web.Application()
            app.router.add_post("/hook", receiver.handle)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            receiver_port = free_port()
            await web.TCPSite(runner, "127.0.0.1", receiver_port).start()

            store_port, front_port = free_port(), free_port()
            roles = {
                "store": _role_command("store", database_url, nats_url, str(store_port)),
                "front": _role_command("front", f"127.0.0.1:{store_port}", str(front_port)),
                "deliver": _role_command("deliver", nats_url, f"http://127.0.0.1:{receiver_port}/hook"),
            }
            children = [subprocess.Popen(command) for command in roles.values()]
            url = f"http://127.0.0.1:{front_port}"
            await _wait_serving(f"{url}/Users/{uuid.uuid4()}")
            cpu = SystemCpu({"postgres": postgres.child.pid, "nats": jetstream_server.child.pid,
                             **{name: child.pid for name, child in zip(roles, children)}})
            print(await calibration_line(database_url), flush=True)

            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=64)) as http:
                await _creates(http, url, 50, 1)  # warm-up: connections, plans
                await receiver.wait_for(50, 10)
                receiver.latencies.clear()

                before = cpu.snapshot()
                started = time.monotonic()
                ids = await _creates(http, url, args.rate, args.seconds)
                written = time.monotonic() - started
                await receiver.wait_for(len(ids), 30)
                after = cpu.snapshot()
                latencies = sorted(receiver.latencies)
                p = (lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000) if latencies \
                    else (lambda q: float("nan"))
                print(f"create at {args.rate:.0f}/s offered: {len(ids) / written:.0f}/s written, "
                      f"{len(latencies)}/{len(ids)} delivered, commit→receipt p50 {p(0.5):.1f} ms p99 {p(0.99):.1f} ms")
                print(f"  CPU per create with its event and one delivery: {_split(spent(before, after), len(ids))}")

                before = cpu.snapshot()
                rate = await _gets(http, [f"{url}/Users/{id}" for id in ids], args.gets)
                after = cpu.snapshot()
                print(f"get by id at c=16: {rate:.0f}/s")
                print(f"  CPU per get: {_split(spent(before, after), args.gets)}")

                pages = max(args.gets // 5, 200)
                starts = [1 + (n * 37) % max(1, len(ids) - PAGE) for n in range(pages)]
                before = cpu.snapshot()
                rate = await _gets(http, [f"{url}/Users?startIndex={start}&count={PAGE}" for start in starts], pages)
                after = cpu.snapshot()
                print(f"list of {PAGE} at c=16: {rate:.0f} pages/s")
                print(f"  CPU per page: {_split(spent(before, after), pages)}")
        finally:
            for child in children:
                child.terminate()
            for child in children:
                child.wait(10)
            await jetstream_server.stop()
            await postgres.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=250.0, help="offered creates per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--gets", type=int, default=6000)
    parser.add_argument("--role", choices=("store", "front", "deliver"), help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.role == "store":
        run_event_loop(_store(rest[0], rest[1], int(rest[2])))
    elif args.role == "front":
        run_event_loop(_front(rest[0], int(rest[1])))
    elif args.role == "deliver":
        run_event_loop(_deliver(rest[0], rest[1]))
    else:
        os.environ.setdefault("PYTHONUNBUFFERED", "1")
        run_event_loop(_bench(args))


if __name__ == "__main__":
    main()
