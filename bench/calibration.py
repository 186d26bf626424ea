"""What this machine can do today, measured beside every pipeline figure: these
machines vary by up to 2x from day to day, so a figure means something only
next to the same run's calibration.

- single-row INSERT transactions per second into the system's own PostgreSQL
  (fsync as configured), CALIBRATION_CONCURRENCY at a time;
- unary gRPC echo calls per second through grpcio aio on 127.0.0.1, client and
  server in this process, CALIBRATION_CONCURRENCY at a time.
Every loop is bounded by a deadline."""

from __future__ import annotations

import asyncio
import time
import uuid

import asyncpg
import grpc

CALIBRATION_CONCURRENCY = 16
_ECHO = "/scimd.bench.Echo/Echo"


async def _for(seconds: float, concurrency: int, one) -> float:
    """Calls of `one(worker)` per second over `seconds`, `concurrency` at a time."""
    deadline = time.monotonic() + seconds
    counts = [0] * concurrency

    async def worker(number: int) -> None:
        while time.monotonic() < deadline:
            await one(number)
            counts[number] += 1

    started = time.monotonic()
    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return sum(counts) / (time.monotonic() - started)


async def insert_rate(database_url: str, seconds: float = 3.0, concurrency: int = CALIBRATION_CONCURRENCY) -> float:
    table = f"bench_calibration_{uuid.uuid4().hex[:8]}"
    pool = await asyncpg.create_pool(database_url, min_size=concurrency, max_size=concurrency)
    try:
        await pool.execute(f"CREATE TABLE public.{table} (id bigserial PRIMARY KEY, payload text NOT NULL)")
        connections = [await pool.acquire() for _ in range(concurrency)]
        try:
            insert = f"INSERT INTO public.{table} (payload) VALUES ($1)"
            return await _for(seconds, concurrency, lambda n: connections[n].execute(insert, "calibration"))
        finally:
            for connection in connections:
                await pool.release(connection)
            await pool.execute(f"DROP TABLE public.{table}")
    finally:
        await pool.close()


async def grpc_echo_rate(seconds: float = 3.0, concurrency: int = CALIBRATION_CONCURRENCY) -> float:
    async def echo(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return request

    handler = grpc.method_handlers_generic_handler("scimd.bench.Echo", {
        "Echo": grpc.unary_unary_rpc_method_handler(echo),
    })
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_unary(_ECHO)
            await call(b"warm-up")
            return await _for(seconds, concurrency, lambda n: call(b"x" * 64))
    finally:
        await server.stop(None)


async def calibrate(database_url: str | None, seconds: float = 3.0) -> dict[str, float]:
    figures = {"grpc_echo_per_second": await grpc_echo_rate(seconds)}
    if database_url:
        figures["insert_transactions_per_second"] = await insert_rate(database_url, seconds)
    return figures


async def calibration_line(database_url: str | None, seconds: float = 3.0) -> str:
    """The machine's calibration as the benches print it, beside their figures."""
    figures = await calibrate(database_url, seconds)
    inserts = figures.get("insert_transactions_per_second")
    return (f"calibration (c={CALIBRATION_CONCURRENCY}): gRPC echo {figures['grpc_echo_per_second']:.0f}/s, "
            + (f"single-row insert transactions {inserts:.0f}/s" if inserts else "inserts not measured "
               "(no database_url in the data directory's addresses.json)"))
