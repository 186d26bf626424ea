"""`python -m gateway`: settings → logging → serve until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from gateway.app import create_app
from services.common.logs import configure_logging
from services.common.metrics import serve_metrics
from services.common.runtime import run_event_loop
from services.common.settings import Settings, exit_on_bad_settings, settings_or_exit

log = logging.getLogger("gateway")


async def serve(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(create_app(settings), access_log=None, shutdown_timeout=settings.shutdown_grace)
    await runner.setup()
    site = web.TCPSite(runner, settings.http_host, settings.http_port, reuse_address=True)
    try:
        await site.start()
    except OSError as error:
        log.error("cannot listen on port %s: %s; set SCIMD_HTTP_PORT to a free port", settings.http_port, error.strerror)
        await runner.cleanup()
        raise SystemExit(1) from None
    serve_metrics(settings.metrics_port, settings.metrics_listen)
    log.info("gateway serving", extra={"port": settings.http_port})
    await stop.wait()
    log.info("gateway stopping")
    await runner.cleanup()
    log.info("gateway stopped")


def main() -> None:
    settings = settings_or_exit()
    configure_logging("gateway", settings.log_level, settings.log_format)
    with exit_on_bad_settings():
        run_event_loop(serve(settings))


if __name__ == "__main__":
    main()
