"""What every bench script needs first: the running system it may load (this
machine only) and the management API's credentials."""

from __future__ import annotations

import argparse
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import orjson

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def require_local(url: str, *grpc_addresses: str) -> None:
    hosts = [urlsplit(url).hostname, *(a.rsplit(":", 1)[0] for a in grpc_addresses if a)]
    if any(host not in LOCAL_HOSTS for host in hosts):
        raise SystemExit("the benchmark only targets this machine (127.0.0.1 / localhost)")


def management_headers(args: argparse.Namespace) -> dict[str, str]:
    """Basic auth from --project-id/--project-secret, else from the data directory of `make run`."""
    project_id, secret = args.project_id, args.project_secret
    if not (project_id and secret):
        stored = orjson.loads((Path(args.data_dir) / "credentials.json").read_bytes())
        project_id, secret = stored["project_id"], stored["project_secret"]
    return {"Authorization": aiohttp.encode_basic_auth(project_id, secret)}
