"""The operator's `scimd` commands, run as a user runs them, against the
running gateway: organizations, connections, token rotation, SCIM activity
and health."""

from __future__ import annotations

import asyncio
import base64
import os
import sys

from tests.support import scim_user


async def scimd(gateway, *args: str, credentials: bool = True, **env: str) -> tuple[int, str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SCIMD_")}
    environment.update(SCIMD_URL=gateway.url, SCIMD_DATA_DIR="/nonexistent")
    if credentials:
        environment.update(SCIMD_PROJECT_ID=gateway.settings.project_id,
                           SCIMD_PROJECT_SECRET=gateway.settings.project_secret)
    environment.update(env)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli", *args, env=environment,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode, out.decode(), err.decode()


def field(output: str, label: str) -> str:
    return next(line[len(label):].strip() for line in output.splitlines() if line.startswith(label))


async def test_an_operator_sets_up_a_customer_and_watches_its_activity(http, gateway):
    status, out, err = await scimd(gateway, "organizations", "create", "Operator Co")
    assert status == 0, err
    organization_id = out.strip()
    assert organization_id.startswith("organization-")

    status, out, err = await scimd(gateway, "connections", "create", organization_id, "--idp", "microsoft-entra")
    assert status == 0, err
    connection_id, base_url, token = (field(out, label) for label in ("connection id", "base URL", "bearer token"))
    assert base_url.endswith("?aadOptscim062020") and token.startswith("scimd_")

    async with http.post(base_url.split("?")[0] + "/Users", json=scim_user("grace@operator.test"),
                         headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 201
        member_id = (await response.json(content_type=None))["id"]
    status, out, err = await scimd(gateway, "activity", organization_id)
    assert status == 0, err
    assert member_id in out and "create" in out and "succeeded" in out

    status, out, _ = await scimd(gateway, "connections", "list", "--organization", organization_id)
    assert connection_id in out and f"…{token[-4:]}" in out

    status, out, _ = await scimd(gateway, "connections", "rotate", organization_id, connection_id, "start")
    next_token = field(out, "next bearer token")
    assert status == 0 and next_token.startswith("scimd_") and next_token != token
    status, out, _ = await scimd(gateway, "connections", "rotate", organization_id, connection_id, "complete")
    assert status == 0 and f"…{next_token[-4:]}" in out
    async with http.get(base_url.split("?")[0] + "/Users", headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 401

    status, out, _ = await scimd(gateway, "organizations", "list")
    assert status == 0 and organization_id in out


async def test_health_reports_every_service(gateway):
    status, out, _ = await scimd(gateway, "health", credentials=False)
    assert status == 0
    for name in ("connections", "directory", "rbac", "webhooks"):
        assert f"{name}" in out and "SERVING" in out


async def test_failures_are_one_clear_line_and_a_nonzero_status(gateway):
    status, _, err = await scimd(gateway, "organizations", "list", credentials=False)
    assert status == 1 and "SCIMD_PROJECT_ID" in err and "Traceback" not in err
    status, _, err = await scimd(gateway, "organizations", "list", credentials=False,
                                 SCIMD_PROJECT_ID="project-x", SCIMD_PROJECT_SECRET="wrong")
    assert status == 1 and "401" in err and "Traceback" not in err
    status, _, err = await scimd(gateway, "connections", "rotate", "organization-x", "scim-connection-x", "start")
    assert status == 1 and "404" in err
    status, _, err = await scimd(gateway, "health", credentials=False, SCIMD_URL="http://127.0.0.1:9")
    assert status == 1 and "does not answer" in err


async def test_an_operator_reads_the_delivery_log_and_replays(http, gateway, webhook_receiver):
    auth = {"Authorization": "Basic " + base64.b64encode(
        f"{gateway.settings.project_id}:{gateway.settings.project_secret}".encode()).decode()}
    async with http.post(gateway.url + "/v1/webhooks/endpoints", headers=auth,
                         json={"url": webhook_receiver.url, "event_types": ["organization.create"]}) as response:
        endpoint_id = (await response.json())["endpoint"]["endpoint_id"]
    status, out, err = await scimd(gateway, "organizations", "create", "Webhook Co")
    assert status == 0, err
    delivered = await webhook_receiver.next(timeout=20)
    event_id = delivered.headers["webhook-id"]

    status, out, err = await scimd(gateway, "webhooks", "endpoints")
    assert status == 0 and endpoint_id in out and "enabled" in out
    for args in (("--endpoint", endpoint_id), ("--event", event_id)):
        for _ in range(100):  # the attempt is logged just after the receiver answers
            status, out, err = await scimd(gateway, "webhooks", "attempts", *args)
            if event_id in out:
                break
            await asyncio.sleep(0.1)
        assert status == 0 and "succeeded" in out and "200" in out, (out, err)

    status, out, err = await scimd(gateway, "webhooks", "replay", "--event", event_id, "--endpoint", endpoint_id)
    assert status == 0 and "1 deliveries scheduled" in out, err
    again = await webhook_receiver.next(timeout=20)
    assert again.headers["webhook-id"] == event_id  # the same id: receivers deduplicate on it
    status, _, err = await scimd(gateway, "webhooks", "replay", "--endpoint", endpoint_id)
    assert status == 1 and "--since" in err
    async with http.delete(f"{gateway.url}/v1/webhooks/endpoints/{endpoint_id}", headers=auth):
        pass
