"""What `scimd up` writes, and where.

Children always log JSON lines to the supervisor, which passes them on:
- "json" (containers, files, CI): every line to stderr, one JSON object per
  line; a child's line that is not JSON (a traceback before its logging
  started) is wrapped into one.
- "text" (a terminal): every line, as JSON, to `scimd.log` in the data
  directory; the terminal shows only the children's warnings and errors as
  short lines, beside the supervisor's own (what started, what restarted
  and why), and the banner last.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import IO

import orjson

from runtime.logs import JsonFormatter, render_text

LOG_FILE_NAME = "scimd.log"
_SHOWN_IN_TEXT = {"warning", "error", "critical"}


def _now() -> str:
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


class Output:
    def __init__(self, log_format: str, data_dir: Path, stream: IO[str] | None = None):
        self.log_format = log_format
        self._stream = stream or sys.stderr
        self._file: IO[str] | None = None
        self.log_path: Path | None = None
        if log_format == "text":
            self.log_path = data_dir / LOG_FILE_NAME
            self._file = open(self.log_path, "a", encoding="utf-8")

    def attach_logging(self) -> None:
        """Sends the supervisor's own records to the log file too (text mode)."""
        if self._file is not None:
            handler = logging.StreamHandler(self._file)
            handler.setFormatter(JsonFormatter("supervisor"))
            logging.getLogger().addHandler(handler)

    def child_line(self, process: str, line: str) -> None:
        """One line a child wrote."""
        entry, wrapped = _as_record(process, line)
        as_json = _dump(entry) if wrapped else line
        if self._file is None:
            self._write(self._stream, as_json)
            return
        self._write(self._file, as_json)
        if wrapped or entry.get("level") in _SHOWN_IN_TEXT:
            self._write(self._stream, render_text(entry))

    @staticmethod
    def _write(stream: IO[str], text: str) -> None:
        try:
            stream.write(text + "\n")
            stream.flush()
        except (OSError, ValueError):  # a closed terminal must not stop the supervisor
            pass

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


def _as_record(process: str, line: str) -> tuple[dict, bool]:
    """The line's JSON record, or one made for it (True) when it is not JSON."""
    if line.startswith("{"):
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            entry = None
        if isinstance(entry, dict):
            return entry, False
    return {"time": _now(), "level": "info", "process": process, "message": line}, True


def _dump(entry: dict) -> str:
    return orjson.dumps(entry, default=str).decode()
