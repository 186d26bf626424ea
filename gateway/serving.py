"""The gateway's listening socket, hardened against slow and numerous clients:
a connection that sends no complete request within the idle timeout is
closed (slow or silent headers included), a body must arrive within the body
timeout (gateway/json.py), and past the connection cap new connections get a
503 and are closed at once."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_server import Server

from gateway.app import create_app
from runtime.settings import Settings

log = logging.getLogger("gateway")

_REFUSAL = (b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\nContent-Length: 72\r\n\r\n"
            b'{"status_code": 503, "error_message": "too many connections; retry later"}')


class MalformedRequestsAreNotServerErrors(logging.Filter):
    """aiohttp logs a request its parser refuses (an invented method, a NUL in
    the path) at error level with a traceback, before any handler runs. That is
    the client's mistake, answered 400: anyone could fill the error log with it.
    Such a record becomes one info line without the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError) and error.code < 500:
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg, record.args = "malformed HTTP request refused", ()
            record.exc_info, record.exc_text = None, None
            record.__dict__.update(status=error.code, reason=error.message[:200])
        return True


class _Refused(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.write(_REFUSAL)  # type: ignore[attr-defined]
        transport.close()


class _Capped:
    """The server's protocol factory, refusing connections past `cap`."""

    def __init__(self, server: Server, cap: int):
        self._server = server
        self._cap = cap

    def __call__(self) -> asyncio.Protocol:
        if len(self._server.connections) >= self._cap:
            log.warning("connection refused: at the cap", extra={"cap": self._cap})
            return _Refused()
        return self._server()


class CappedSite(web.TCPSite):
    def __init__(self, runner: web.AppRunner, host: str, port: int, cap: int):
        super().__init__(runner, host, port, reuse_address=True)
        self._cap = cap

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            _Capped(server, self._cap), self._host, self._port, backlog=self._backlog, reuse_address=True,
        )


async def start_gateway(settings: Settings, host: str | None = None) -> web.AppRunner:
    """The gateway's app, listening on `host` (settings.http_host) and settings.http_port."""
    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, MalformedRequestsAreNotServerErrors) for f in server_log.filters):
        server_log.addFilter(MalformedRequestsAreNotServerErrors())
    runner = web.AppRunner(
        create_app(settings), access_log=None, shutdown_timeout=settings.shutdown_grace,
        keepalive_timeout=settings.http_idle_timeout,
        # After an early answer (a 408, a 401 before the body), the rest of a body is read for at most this long.
        lingering_time=2.0,
    )
    await runner.setup()
    try:
        await CappedSite(runner, host or settings.http_host, settings.http_port, settings.http_max_connections).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner
