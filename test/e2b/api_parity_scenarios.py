"""E2B control-API and sandbox-traffic parity scenarios (issue 15, groups 2, 4, 5, 7, 10 and MCP)
for the PyPI `e2b` SDK (unchanged), run by api-parity.test.ts in the SDK's virtualenv. Connection
from E2B_API_KEY / E2B_API_URL / E2B_SANDBOX_URL. Prints one JSON line per scenario."""
import datetime, os, time
import httpx
from e2b import Sandbox, SandboxQuery, SandboxNetworkOpts
from scenario_runner import check, poll, run_scenarios

API = os.environ["E2B_API_URL"]
SANDBOX_URL = os.environ["E2B_SANDBOX_URL"]
KEY = {"X-API-KEY": os.environ["E2B_API_KEY"]}
ctx = {"tag": f"pyparity{int(time.time() * 1000)}"}


def new_sandbox(**opts):
    return Sandbox.create("base", timeout=300, metadata={"suite": "api-parity", "tag": ctx["tag"]}, **opts)


def listed(**query):
    p = Sandbox.list(query=SandboxQuery(metadata={"tag": ctx["tag"]}, **query))
    out = []
    while p.has_next:
        out.extend(p.next_items())
    return [x.sandbox_id for x in out]


def create():
    ctx["sbx"] = new_sandbox()
    ctx["sbx"].files.write("hello.txt", "hello world")


def signed_urls():
    sbx = ctx["sbx"]
    down = httpx.get(sbx.download_url("hello.txt"))
    check(down.status_code == 200 and down.text == "hello world", f"download: {down.status_code} {down.text}")
    up = httpx.post(sbx.upload_url("up.txt"), files={"file": ("up.txt", b"uploaded")})
    check(up.status_code == 200, f"upload: {up.status_code} {up.text}")
    check(sbx.files.read("up.txt") == "uploaded", "uploaded file")
    expired = httpx.get(sbx.download_url("hello.txt", use_signature_expiration=-10_000))
    check(expired.status_code == 401 and expired.json() == {"code": 401, "message": "signature is already expired"}, f"expired: {expired.status_code} {expired.text}")


def started_after():
    sbx = ctx["sbx"]
    started = sbx.get_info().started_at
    check(sbx.sandbox_id in listed(started_after=started - datetime.timedelta(minutes=1)), "started after the time: listed")
    check(sbx.sandbox_id not in listed(started_after=started + datetime.timedelta(seconds=1)), "started before the time: not listed")


def metrics_window():
    sbx = ctx["sbx"]
    started = sbx.get_info().started_at
    now = datetime.datetime.now(datetime.timezone.utc)
    check(len(sbx.get_metrics(start=started - datetime.timedelta(minutes=1), end=now + datetime.timedelta(minutes=1))) == 1, "a window over the sandbox life")
    check(sbx.get_metrics(start=started - datetime.timedelta(hours=2), end=started - datetime.timedelta(hours=1)) == [], "a window before the sandbox started")
    bad = httpx.get(f"{API}/sandboxes/{sbx.sandbox_id}/metrics?start=300&end=100", headers=KEY)
    check(bad.status_code == 400, f"start after end: {bad.status_code}")


def set_timeout_zero():
    sbx = new_sandbox()
    sbx.set_timeout(0)
    poll(lambda: not sbx.is_running(), "the sandbox to end", 30)


def private_traffic():
    sbx = new_sandbox(network=SandboxNetworkOpts(allow_public_traffic=False))
    try:
        token = sbx.traffic_access_token
        check(isinstance(token, str) and token, "create returns a traffic_access_token")
        sbx.commands.run("python3 -m http.server 8080", background=True)
        route = {"E2b-Sandbox-Id": sbx.sandbox_id, "E2b-Sandbox-Port": "8080"}
        check(httpx.get(f"{SANDBOX_URL}/", headers=route).status_code == 403, "without the token")
        poll(lambda: httpx.get(f"{SANDBOX_URL}/", headers={**route, "e2b-traffic-access-token": token}).status_code == 200, "the server to answer with the token", 30)
        check(Sandbox.connect(sbx.sandbox_id).traffic_access_token == token, "connect returns the same token")
    finally:
        sbx.kill()


def killed_during_wait():
    sbx = new_sandbox()
    cmd = sbx.commands.run("sleep 60", background=True)
    sbx.kill()
    try:
        cmd.wait()
    except Exception as e:  # the SDK's SandboxException family
        check("sandbox was killed or reached its end of life" in str(e), f"wait() error: {type(e).__name__}: {e}")
        return
    raise AssertionError("wait() must fail")


def mcp_refused():
    try:
        s = new_sandbox(mcp={"exa": {"apiKey": "x"}})
        s.kill()
    except Exception as e:
        check("501" in str(e) and "not supported" in str(e), f"create error: {type(e).__name__}: {e}")
        return
    raise AssertionError("create must fail")


run_scenarios([
    ("create", create),
    ("signed download and upload URLs from a plain HTTP client, and their expiry", signed_urls),
    ("list(started_after) keeps only sandboxes started at or after the time", started_after),
    ("get_metrics(start, end) answers for the window only", metrics_window),
    ("set_timeout(0) ends the sandbox", set_timeout_zero),
    ("allow_public_traffic=False needs the traffic_access_token on user ports", private_traffic),
    ("a sandbox killed during cmd.wait() surfaces as killed, not as a timeout", killed_during_wait),
    ("create with an MCP gateway is refused as not supported", mcp_refused),
], ctx, create, lambda s: s.kill())
