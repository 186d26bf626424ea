"""What `scimd up` shows a person (text) and what it keeps for machines (JSON)."""

import io

import orjson

from cli.terminal import Output
from runtime.logs import render_text

WARNING = orjson.dumps({"time": "2026-12-02T09:00:26.123Z", "level": "warning", "process": "directory",
                        "logger": "x", "message": "NATS disconnected", "connection": "relay"}).decode()
INFO = orjson.dumps({"time": "2026-12-02T09:00:26.123Z", "level": "info", "process": "directory",
                     "logger": "x", "message": "applied migration"}).decode()


def test_text_mode_shows_warnings_and_raw_lines_and_files_everything_as_json(tmp_path):
    terminal = io.StringIO()
    output = Output("text", tmp_path, terminal)
    for line in (INFO, WARNING, "Traceback (most recent call last):"):
        output.child_line("directory", line)
    output.close()
    shown = terminal.getvalue().splitlines()
    assert shown == ["09:00:26 directory warning: NATS disconnected  (connection=relay)",
                     shown[1]] and shown[1].endswith("directory: Traceback (most recent call last):")
    filed = [orjson.loads(line) for line in (tmp_path / "scimd.log").read_text().splitlines()]
    assert [entry["message"] for entry in filed] == ["applied migration", "NATS disconnected",
                                                     "Traceback (most recent call last):"]
    assert filed[2]["process"] == "directory"


def test_json_mode_passes_json_through_and_wraps_the_rest(tmp_path):
    terminal = io.StringIO()
    output = Output("json", tmp_path, terminal)
    output.child_line("gateway", INFO)
    output.child_line("gateway", "plain words")
    lines = terminal.getvalue().splitlines()
    assert lines[0] == INFO
    assert orjson.loads(lines[1])["message"] == "plain words" and orjson.loads(lines[1])["process"] == "gateway"
    assert not (tmp_path / "scimd.log").exists()


def test_a_list_field_is_shown_one_item_per_line():
    text = render_text({"time": "2026-12-02T09:00:26Z", "level": "error", "process": "supervisor",
                        "message": "directory is crash-looping", "output_tail": ["line one", "line two"]})
    assert text.splitlines() == ["09:00:26 supervisor error: directory is crash-looping",
                                 "    | line one", "    | line two"]
