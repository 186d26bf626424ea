"""The whole system as separate processes (`scimd up`), over real sockets:
the README walkthrough, graceful shutdown, and the embedded defaults."""

from __future__ import annotations

import asyncio
import sys
import time

import aiohttp
import orjson
from standardwebhooks import Webhook

from cli.processes import free_port
from tests.conftest import REPO_ROOT, delete_stream, unique_prefix
from tests.e2e.scimd_process import ScimdProcess, alive, scimd_environment
from tests.support import basic_auth, bearer, post_json, scim_user

STOP_DEADLINE_SECONDS = 10


async def _walk_readme(http: aiohttp.ClientSession, base: str, auth: dict, receiver) -> dict:
    """Organization → connection → webhook endpoint → SCIM user; returns what was received."""
    status, body = await post_json(
        http, f"{base}/v1/b2b/organizations", {"organization_name": "Acme Inc", "organization_slug": "acme"}, headers=auth
    )
    assert status == 201, body
    organization_id = body["organization"]["organization_id"]
    status, body = await post_json(
        http, f"{base}/v1/b2b/scim/{organization_id}/connection",
        {"display_name": "Okta", "identity_provider": "okta"}, headers=auth,
    )
    assert status == 201, body
    connection = body["connection"]
    status, body = await post_json(
        http, f"{base}/v1/webhooks/endpoints", {"url": receiver.url, "event_types": ["scim.member.create"]}, headers=auth
    )
    assert status == 201, body
    secret = body["endpoint"]["secret"]
    async with http.post(
        f"{connection['base_url']}/Users", data=orjson.dumps(scim_user("ada@acme.test")), headers=bearer(connection)
    ) as response:
        assert response.status == 201
        user = await response.json(content_type=None)
    delivered = await receiver.next(timeout=30)
    payload = Webhook(secret).verify(delivered.body, delivered.headers)
    assert payload["type"] == "scim.member.create"
    assert payload["data"]["member"]["member_id"] == user["id"]
    return {"connection": connection, "secret": secret, "organization_id": organization_id, "user_id": user["id"]}


async def _check_metrics(http: aiohttp.ClientSession, data_dir, connection_id: str) -> None:
    """Every process serves Prometheus metrics where addresses.json says."""
    metrics = orjson.loads((data_dir / "addresses.json").read_bytes())["metrics"]
    assert set(metrics) == {"gateway", "connections", "directory", "rbac", "webhooks", "supervisor"}
    texts = {}
    for name, url in metrics.items():
        async with http.get(url) as response:
            assert response.status == 200, name
            texts[name] = await response.text()
    # A delivery is counted once its success is recorded, a moment after the receiver has it.
    deadline = time.monotonic() + 10
    while 'scimd_webhook_deliveries_total{outcome="success"}' not in texts["webhooks"] and time.monotonic() < deadline:
        await asyncio.sleep(0.05)  # polling for the effect, with a deadline
        async with http.get(metrics["webhooks"]) as response:
            texts["webhooks"] = await response.text()
    assert f'scimd_http_requests_total{{connection_id="{connection_id}",method="POST",resource="Users",status="201"}}' \
        in texts["gateway"]
    assert 'scimd_grpc_server_handled_total{code="OK",method="CreateMember",service="scimd.directory.v1.DirectoryService"}' \
        in texts["directory"]
    assert 'scimd_outbox_published_total{schema="directory"}' in texts["directory"]
    assert 'scimd_jetstream_consumer_processed_total' in texts["webhooks"]
    assert 'scimd_webhook_deliveries_total{outcome="success"}' in texts["webhooks"]
    assert "scimd_active_sessions" in texts["rbac"]
    assert 'scimd_process_restarts_total{process="directory"} 0.0' in texts["supervisor"]


async def test_readme_walkthrough_against_the_real_process_tree(tmp_path, fresh_database, nats_url, webhook_receiver):
    """External PostgreSQL and NATS: five processes, one signed webhook, a clean stop."""
    http_port, prefix = free_port(), unique_prefix()
    env = scimd_environment(http_port, tmp_path / "data", DATABASE_URL=await fresh_database(), NATS_URL=nats_url, SCIMD_NATS_PREFIX=prefix)
    scimd = ScimdProcess(env, tmp_path / "scimd.log")
    try:
        await scimd.start()
        base = scimd.field("gateway")
        auth = basic_auth(scimd.field("project id"), scimd.field("project secret"))
        assert base == f"http://localhost:{http_port}"
        descendants = scimd.descendants()
        assert len(descendants) >= 5  # gateway + four services (and their helpers)
        async with aiohttp.ClientSession() as http:
            walked = await _walk_readme(http, base, auth, webhook_receiver)
            await _check_metrics(http, tmp_path / "data", walked["connection"]["connection_id"])
        assert await scimd.stop(STOP_DEADLINE_SECONDS) == 0
        assert not [pid for pid in descendants if alive(pid)], "processes outlived scimd"
    finally:
        await scimd.kill()
        await delete_stream(nats_url, prefix)
    logs = (tmp_path / "scimd.log").read_text()
    for secret in (walked["connection"]["bearer_token"], walked["secret"], "ada@acme.test"):
        assert secret not in logs


async def test_embedded_servers_keep_their_data_across_restarts(tmp_path, webhook_receiver):
    """No DATABASE_URL / NATS_URL: embedded PostgreSQL and NATS under SCIMD_DATA_DIR."""
    data_dir = tmp_path / "data"
    env = scimd_environment(free_port(), data_dir)
    first = ScimdProcess(env, tmp_path / "first.log")
    try:
        await first.start()
        base, project_id, secret = first.field("gateway"), first.field("project id"), first.field("project secret")
        assert "embedded PostgreSQL" in first.banner and "embedded NATS JetStream" in first.banner
        descendants = first.descendants()
        async with aiohttp.ClientSession() as http:
            walked = await _walk_readme(http, base, basic_auth(project_id, secret), webhook_receiver)
        assert await first.stop(STOP_DEADLINE_SECONDS) == 0
        assert not [pid for pid in descendants if alive(pid)], "processes outlived scimd"
    finally:
        await first.kill()

    second = ScimdProcess(env, tmp_path / "second.log")
    try:
        await second.start()
        assert (second.field("project id"), second.field("project secret")) == (project_id, secret)
        async with aiohttp.ClientSession() as http:
            async with http.get(
                f"{base}/v1/b2b/organizations/{walked['organization_id']}", headers=basic_auth(project_id, secret)
            ) as response:
                assert response.status == 200
            async with http.get(
                f"{walked['connection']['base_url']}/Users/{walked['user_id']}", headers=bearer(walked["connection"])
            ) as response:
                assert response.status == 200  # the token and the user survived the restart
            user = scim_user("grace@acme.test")
            async with http.post(
                f"{walked['connection']['base_url']}/Users", data=orjson.dumps(user), headers=bearer(walked["connection"])
            ) as response:
                assert response.status == 201
        delivered = await webhook_receiver.next(timeout=30)
        assert Webhook(walked["secret"]).verify(delivered.body, delivered.headers)["data"]["member"]["email_address"] == "grace@acme.test"
        assert await second.stop(STOP_DEADLINE_SECONDS) == 0
    finally:
        await second.kill()


async def test_project_credentials_from_the_environment_win(tmp_path, fresh_database, nats_url):
    """Also: the text a person sees on a terminal (SCIMD_LOG_FORMAT=text) has no JSON, and the
    JSON lines are kept in the data directory's scimd.log."""
    prefix = unique_prefix()
    env = scimd_environment(
        free_port(), tmp_path / "data", DATABASE_URL=await fresh_database(), NATS_URL=nats_url, SCIMD_NATS_PREFIX=prefix,
        SCIMD_PROJECT_ID="project-test-fixed", SCIMD_PROJECT_SECRET="secret-test-fixed", SCIMD_LOG_FORMAT="text",
    )
    scimd = ScimdProcess(env, tmp_path / "scimd.log")
    try:
        await scimd.start()
        assert scimd.field("project id") == "project-test-fixed"
        async with aiohttp.ClientSession() as http:
            status, _ = await post_json(
                http, f"{scimd.field('gateway')}/v1/b2b/organizations", {"organization_name": "Env"},
                headers=basic_auth("project-test-fixed", "secret-test-fixed"),
            )
        assert status == 201
        assert await scimd.stop(STOP_DEADLINE_SECONDS) == 0
    finally:
        await scimd.kill()
        await delete_stream(nats_url, prefix)
    terminal = (tmp_path / "scimd.log").read_text().splitlines()
    assert terminal and not [line for line in terminal if line.startswith("{")], terminal
    assert any(line.endswith("supervisor: gateway started") or "supervisor: gateway started " in line
               for line in terminal), terminal
    assert "logs              " in scimd.banner
    kept = [orjson.loads(line) for line in (tmp_path / "data" / "scimd.log").read_text().splitlines()]
    assert {"supervisor", "gateway", "directory"} <= {entry["process"] for entry in kept}


async def test_bad_settings_are_one_clear_line_not_a_restart_loop(tmp_path, fresh_database, nats_url):
    """A setting only the services check (the encryption key): each says so in one
    line, scimd says which process refused to start and why, and exits at once."""
    env = scimd_environment(free_port(), tmp_path / "data", DATABASE_URL=await fresh_database(), NATS_URL=nats_url,
                            SCIMD_NATS_PREFIX=unique_prefix(), SCIMD_ENCRYPTION_KEY="not-a-key")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", "up", cwd=REPO_ROOT, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 1
    records = [orjson.loads(line) for line in stderr.decode().splitlines()]
    errors = [r["message"] for r in records if r["level"] == "error"]
    assert len(errors) == 1 and errors[0].startswith("scimd could not start: ")
    assert "exit status 78" in errors[0] and "SCIMD_ENCRYPTION_KEY must be 32 bytes" in errors[0]
    assert not [r for r in records if "Traceback" in r["message"]]
