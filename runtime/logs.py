"""Log records: one JSON object per line with the current request id attached
(for containers and files), or short lines a person reads in a terminal
(SCIMD_LOG_FORMAT=text, the default when stderr is a terminal)."""

from __future__ import annotations

import logging
import sys
import time

import orjson

from runtime.context import current_request_id

_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}


class JsonFormatter(logging.Formatter):
    def __init__(self, process_name: str):
        super().__init__()
        self.process_name = process_name
        self._second = -1
        self._second_text = ""

    def _timestamp(self, created: float, msecs: float) -> str:
        second = int(created)
        if second != self._second:
            self._second, self._second_text = second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._second_text}.{int(msecs):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self._timestamp(record.created, record.msecs),
            "level": record.levelname.lower(),
            "process": self.process_name,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


# Fields a text line shows in its own place rather than as key=value.
_TEXT_PLACED = ("time", "level", "process", "logger", "message", "exception")


def render_text(entry: dict) -> str:
    """One JSON log record as a terminal line: `12:00:01 directory warning: message key=value`."""
    clock = str(entry.get("time", ""))[11:19]
    level = str(entry.get("level", "info"))
    head = f"{clock} {entry.get('process', '')}".strip()
    if level not in ("info", "debug"):
        head = f"{head} {level}".strip()
    extras = " ".join(
        f"{key}={value}" for key, value in entry.items() if key not in _TEXT_PLACED and not isinstance(value, list)
    )
    line = (f"{head}: " if head else "") + str(entry.get("message", "")) + (f"  ({extras})" if extras else "")
    for value in entry.values():
        if isinstance(value, list):  # e.g. a process's last lines of output, one per line
            line += "".join(f"\n    | {item}" for item in value)
    if entry.get("exception"):
        line += "\n" + str(entry["exception"])
    return line


def brief(line: str) -> str:
    """A line a process wrote, without what its reader already knows (time,
    process): a JSON record as `level: message (key=value)`, anything else as it is."""
    if not line.startswith("{"):
        return line
    try:
        entry = orjson.loads(line)
    except orjson.JSONDecodeError:
        return line
    if not isinstance(entry, dict):
        return line
    return render_text({k: v for k, v in entry.items() if k not in ("time", "process", "logger")})


class TextFormatter(JsonFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return render_text(orjson.loads(super().format(record)))


def configure_logging(process_name: str, level: str = "INFO", log_format: str = "json") -> None:
    # What no log line shows, so no record computes it (the logging HOWTO's
    # "Optimization" section): the caller's frame, thread and process names.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter((TextFormatter if log_format == "text" else JsonFormatter)(process_name))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Access logs of aiohttp are replaced by the gateway's own request log.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
