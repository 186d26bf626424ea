"""`python -m gateway`: settings → logging → serve until SIGTERM/SIGINT."""

from __future__ import annotations

import asyncio
import logging
import signal

from gateway.serving import start_gateway
from runtime.event_loop import run_event_loop
from runtime.logs import configure_logging
from runtime.metrics import serve_metrics
from runtime.settings import Settings, exit_on_bad_settings, settings_or_exit

log = logging.getLogger("gateway")


async def serve(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        runner = await start_gateway(settings)
    except OSError as error:
        log.error("cannot listen on port %s: %s; set SCIMD_HTTP_PORT to a free port", settings.http_port, error.strerror)
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
