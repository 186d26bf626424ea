"""The `scimd` command."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

from cli import operator
from cli.status_server import serve_status
from cli.supervision import Supervisor
from cli.system import SERVICES, System, start_system
from cli.terminal import Output
from runtime.db import migrate
from runtime.event_loop import run_event_loop
from runtime.logs import configure_logging
from runtime.settings import Settings, settings_or_exit

SERVICES_ROOT = Path(__file__).resolve().parents[1] / "services"

log = logging.getLogger("supervisor")


def _banner(system: System, output: Output) -> str:
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
        *([f"  logs              {output.log_path}"] if output.log_path else []),
        "",
        "  Try: curl -u \"$PROJECT_ID:$PROJECT_SECRET\" " + settings.public_url + "/v1/b2b/organizations \\",
        "         -H 'Content-Type: application/json' -d '{\"organization_name\": \"Acme\"}'",
        "  A process that dies is restarted. Stop with Ctrl-C.",
        "",
    ]
    return "\n".join(lines)


async def up(settings: Settings, output: Output) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    supervisor = Supervisor()
    status_runner, supervisor_url = await serve_status(supervisor)
    try:
        return await _run(settings, output, supervisor, supervisor_url, stop)
    finally:
        await status_runner.cleanup()


async def _run(settings: Settings, output: Output, supervisor: Supervisor, supervisor_url: str,
               stop: asyncio.Event) -> int:
    log.info("starting scimd", extra={"data_dir": str(settings.data_dir.resolve())})
    starting = asyncio.create_task(start_system(settings, supervisor, output.child_line, supervisor_url))
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
    finally:
        stop_wait.cancel()
    supervisor.watch()
    print(_banner(system, output), flush=True)
    fatal = asyncio.ensure_future(supervisor.fatal)
    stop_wait = asyncio.create_task(stop.wait())
    await asyncio.wait({fatal, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
    status = 0
    if fatal.done():
        log.error("stopping scimd: %s", fatal.result())
        status = 1
    stop_wait.cancel()
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
    settings = settings_or_exit()
    configure_logging("supervisor", settings.log_level, settings.log_format)
    if args.command == "up":
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        output = Output(settings.log_format, settings.data_dir.resolve())
        output.attach_logging()
        try:
            sys.exit(run_event_loop(up(settings, output)))
        finally:
            output.close()
    if args.command == "migrate":
        sys.exit(run_event_loop(migrate_all(settings)))
    try:
        sys.exit(run_event_loop(operator.run(args, settings, os.environ)))
    except KeyboardInterrupt:  # the end of `activity --follow`
        sys.exit(130)
    except BrokenPipeError:  # e.g. `scimd activity … | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
