"""Lifecycle scenarios of the PyPI `opensandbox` SDK, unchanged, against agentbox's /opensandbox.

Run by test/opensandbox/lifecycle.test.ts with only the SDK's own environment (OPEN_SANDBOX_DOMAIN,
OPEN_SANDBOX_API_KEY) plus ECHO_PORT (an app the fake engine's sandboxes "listen" on) and RUN (a
metadata tag of this run). Prints one JSON line per scenario: {name, ok, error?}. Creates skip
execd's health check (execd is not part of the lifecycle façade); command and file scenarios go
beside these once execd is in the guest.
"""
import asyncio
import json
import os
import sys
import traceback
from datetime import datetime, timedelta, timezone

import httpx
from opensandbox import Sandbox, SandboxManager
from opensandbox.config import ConnectionConfig
from opensandbox.exceptions import SandboxApiException
from opensandbox.models.sandboxes import SandboxFilter

RUN = os.environ["RUN"]
ECHO_PORT = int(os.environ["ECHO_PORT"])


def check(cond, what):
    if not cond:
        raise AssertionError(what)


async def api_error(coro):
    try:
        await coro
    except SandboxApiException as e:
        return e
    raise AssertionError("expected the call to fail")


async def main():
    config = ConnectionConfig()  # from OPEN_SANDBOX_DOMAIN / OPEN_SANDBOX_API_KEY
    manager = await SandboxManager.create(connection_config=config)
    state = {}

    async def create_get():
        sbx = await Sandbox.create("base", connection_config=config, skip_health_check=True,
                                   timeout=timedelta(minutes=10), metadata={"run": RUN},
                                   resource={"cpu": "1", "memory": "512Mi"})
        info = await sbx.get_info()
        check(info.id == sbx.id, "get returns the created sandbox")
        check(info.status.state == "Running", f"state {info.status.state}")
        check(info.metadata == {"run": RUN}, f"metadata {info.metadata}")
        left = (info.expires_at - datetime.now(timezone.utc)).total_seconds()
        check(500 < left <= 600, f"expires in {left} s")
        state["sbx"] = sbx

    async def endpoint():
        ep = await state["sbx"].get_endpoint(ECHO_PORT)
        check(ep.endpoint.endswith(f"/opensandbox/sandboxes/{state['sbx'].id}/proxy/{ECHO_PORT}"), ep.endpoint)
        async with httpx.AsyncClient() as c:
            r = await c.get(f"http://{ep.endpoint}/py?x=2", headers=ep.headers)
        check(r.status_code == 200, f"proxy status {r.status_code}")
        body = r.json()
        check(body["url"] == "/py?x=2" and body["apiKeyHeader"] is None, f"proxied {body}")

    async def renew():
        r = await state["sbx"].renew(timedelta(minutes=20))
        left = (r.expires_at - datetime.now(timezone.utc)).total_seconds()
        check(1100 < left <= 1200, f"renewed to {left} s")

    async def pause_resume():
        sbx = state["sbx"]
        await sbx.pause()
        check((await sbx.get_info()).status.state == "Paused", "paused")
        e = await api_error(sbx.pause())
        check(e.status_code == 409 and e.error.code == "DOCKER::SANDBOX_NOT_RUNNING", f"pause twice: {e.status_code} {e.error.code}")
        await manager.resume_sandbox(sbx.id)
        check((await sbx.get_info()).status.state == "Running", "resumed")

    async def list_():
        other = await Sandbox.create("base", connection_config=config, skip_health_check=True, metadata={"run": RUN})
        page = await manager.list_sandbox_infos(SandboxFilter(states=["Running"], metadata={"run": RUN}, page=1, page_size=1))
        check(len(page.sandbox_infos) == 1, "one item per page")
        check(page.pagination.total_items == 2 and page.pagination.has_next_page, f"pagination {page.pagination}")
        page2 = await manager.list_sandbox_infos(SandboxFilter(states=["Running"], metadata={"run": RUN}, page=2, page_size=1))
        ids = {page.sandbox_infos[0].id, page2.sandbox_infos[0].id}
        check(ids == {state["sbx"].id, other.id}, f"pages hold both sandboxes: {ids}")
        await other.kill()

    async def pool_ref():
        sbx = await Sandbox.create("ignored", connection_config=config, skip_health_check=True, extensions={"poolRef": "busybox"})
        check((await sbx.get_info()).status.state == "Running", "pooled sandbox runs")
        await sbx.kill()

    async def unknown_image():
        e = await api_error(Sandbox.create("python:3.11", connection_config=config, skip_health_check=True))
        check(e.status_code == 400 and e.error.code == "DOCKER::SANDBOX_IMAGE_PULL_FAILED", f"{e.status_code} {e.error.code}")

    async def kill():
        sbx = state["sbx"]
        await sbx.kill()
        e = await api_error(manager.get_sandbox_info(sbx.id))
        check(e.status_code == 404 and e.error.code == "DOCKER::SANDBOX_NOT_FOUND", f"{e.status_code} {e.error.code}")

    for name, fn in [("create_get", create_get), ("endpoint", endpoint), ("renew", renew), ("pause_resume", pause_resume),
                     ("list", list_), ("pool_ref", pool_ref), ("unknown_image", unknown_image), ("kill", kill)]:
        try:
            await fn()
            print(json.dumps({"name": name, "ok": True}), flush=True)
        except Exception as e:  # noqa: BLE001 - every failure is reported, the next scenario still runs
            traceback.print_exc(file=sys.stderr)
            print(json.dumps({"name": name, "ok": False, "error": f"{type(e).__name__}: {e}"}), flush=True)
    await manager.close()


asyncio.run(main())
