"""The project credentials and encryption key of a local system, generated
once and kept in the data directory (mode 0600) unless the environment sets them."""

from __future__ import annotations

import base64
import os
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import orjson

FILE_NAME = "credentials.json"


@dataclass(frozen=True)
class Credentials:
    project_id: str
    project_secret: str
    encryption_key: str
    generated: bool


def load_or_create(data_dir: Path, env: Mapping[str, str]) -> Credentials:
    path = data_dir / FILE_NAME
    stored = orjson.loads(path.read_bytes()) if path.exists() else {}
    generated = not stored
    if generated:
        stored = {
            "project_id": f"project-live-{uuid.uuid4()}",
            "project_secret": "secret-live-" + secrets.token_urlsafe(32),
            "encryption_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        }
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as file:
            file.write(orjson.dumps(stored, option=orjson.OPT_INDENT_2))
    return Credentials(
        project_id=env.get("SCIMD_PROJECT_ID") or stored["project_id"],
        project_secret=env.get("SCIMD_PROJECT_SECRET") or stored["project_secret"],
        encryption_key=env.get("SCIMD_ENCRYPTION_KEY") or stored["encryption_key"],
        generated=generated and not env.get("SCIMD_PROJECT_SECRET"),
    )
