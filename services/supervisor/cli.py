"""The `scimd` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from services.common.db import migrate
from services.common.logs import configure_logging
from services.common.runtime import run_event_loop
from services.common.settings import Settings
from services.supervisor import operator
from services.supervisor.system import SERVICES, System, start_system

SERVICES_ROOT = Path(__file__).resolve().parents[1]

log = logging.getLogger("supervisor")


def _banner(system: System) -> str:
    settings, credentials = system.settings, system.credentials
    lines = [
        "",
        "scimd is running",
        f"  gateway           {settings.public_url}",
        f"  project id        {credentials.project_id}",
        f"  project secret    {credentials.project_secret}",
        f"  database          {'embedded PostgreSQL' if system.postgres else 'DATABASE_URL'}",
        f"  events            {'embedded NATS JetStream' if system.nats else 'NATS_URL'}",
        f"  data directory    {settings.data_dir.resolve()}",
        "",
        "  Try: curl -u \"$PROJECT_ID:$PROJECT_SECRET\" " + settings.public_url + "/v1/b2b/organizations \\",
        "         -H 'Content-Type: application/json' -d '{\"organization_name\": \"Acme\"}'",
        "  Stop with Ctrl-C.",
        "",
    ]
    return "\n".join(lines)


async def up(settings: Settings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    starting = asyncio.create_task(start_system(settings))
    stop_wait = asyncio.create_task(stop.wait())
    await asyncio.wait({starting, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():
        starting.cancel()
        await asyncio.gather(starting, return_exceptions=True)
        return 0
    try:
        system = starting.result()
    except Exception as error:
        log.error("scimd could not start: %s", error)
        return 1
    print(_banner(system), flush=True)
    status = 0
    while not stop.is_set():
        exited = system.exited_child()
        if exited is not None:
            log.error("%s exited unexpectedly (status %s); stopping", exited.name, exited.process.returncode)
            status = 1
            break
        try:
            await asyncio.wait_for(stop.wait(), 0.5)
        except asyncio.TimeoutError:
            pass
    log.info("stopping scimd")
    await system.stop()
    log.info("scimd stopped")
    return status


async def migrate_all(settings: Settings) -> int:
    """Brings every service's schema up to date (and creates their roles), for
    deployments whose services run with SCIMD_MIGRATE=check."""
    if not settings.database_url:
        log.error("scimd migrate needs DATABASE_URL")
        return 2
    for name in SERVICES:
        applied = await migrate(settings.database_url, name, SERVICES_ROOT / name / "migrations")
        log.info("%s schema is up to date", name, extra={"applied": applied})
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="scimd", description="scimd: SCIM 2.0 provisioning for B2B SaaS")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("up", help="start the whole system (gateway, services, embedded PostgreSQL and NATS)")
    commands.add_parser("migrate", help="apply every service's database migrations to DATABASE_URL, then exit")
    operator.add_commands(commands)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    configure_logging("supervisor", settings.log_level)
    if args.command == "up":
        sys.exit(run_event_loop(up(settings)))
    if args.command == "migrate":
        sys.exit(run_event_loop(migrate_all(settings)))
    try:
        sys.exit(run_event_loop(operator.run(args, settings, os.environ)))
    except KeyboardInterrupt:  # the end of `activity --follow`
        sys.exit(130)
    except BrokenPipeError:  # e.g. `scimd activity … | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
