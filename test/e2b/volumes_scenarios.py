"""E2B Volumes scenarios for the PyPI `e2b` SDK (unchanged; sync, then async), run by
volumes.test.ts in the SDK's virtualenv. Connection from E2B_API_KEY / E2B_API_URL /
E2B_SANDBOX_URL / E2B_VOLUME_API_URL; OTHER_TENANT_KEY is another tenant's key. Prints one JSON
line per scenario: {name, ok, error?, ms}."""
import asyncio, json, os, time, traceback
from e2b import AsyncSandbox, AsyncVolume, Sandbox, Volume, VolumeNotFoundException

OTHER = os.environ["OTHER_TENANT_KEY"]
ctx = {"name": f"py-{os.getpid()}-{int(time.time())}"}


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def rejection(fn, what):
    try:
        fn()
    except Exception as err:  # noqa: BLE001 - the SDK's error is what is checked
        return err
    raise AssertionError(f"{what} was accepted")


def create_and_content():
    v = ctx["vol"] = Volume.create(ctx["name"])
    check(v.name == ctx["name"] and len(v.volume_id) == 36, repr(v.volume_id))
    check(any(x.volume_id == v.volume_id for x in Volume.list()), "listed")
    check(Volume.get_info(v.volume_id).token == v.token, "get_info returns the token")
    e = v.write_file("/in/hello.txt", "from python")
    check(e.path == "/in/hello.txt" and e.size == 11, repr(e))
    check(v.read_file("/in/hello.txt") == "from python", "read back")
    check([x.path for x in v.list("/in")] == ["/in/hello.txt"], "list")


def mount_write_kill_remount():
    v = ctx["vol"]
    a = Sandbox.create("base", volume_mounts={"/mnt/v": v}, timeout=300)
    try:
        r = a.commands.run("cat /mnt/v/in/hello.txt && echo from-sandbox > /mnt/v/out.txt")
        check(r.stdout == "from python", repr(r.stdout))
        check(Sandbox.get_info(a.sandbox_id).volume_mounts == [{"name": v.name, "path": "/mnt/v"}], "get_info volume_mounts")
    finally:
        a.kill()
    b = Sandbox.create("base", volume_mounts={"/data": v.name}, timeout=300)
    try:
        check(b.commands.run("cat /data/out.txt").stdout == "from-sandbox\n", "a new sandbox reads it after the kill")
    finally:
        b.kill()
    check(v.read_file("/out.txt") == "from-sandbox\n", "the content API reads it")


def refused():
    err = rejection(lambda: Volume.create("bad name"), "a bad name")
    check("Invalid volume name" in str(err), str(err))
    err = rejection(lambda: Sandbox.create("base", volume_mounts={"/proc": ctx["vol"]}), "a mount over /proc")
    check("invalid mounts" in str(err), str(err))
    err = rejection(lambda: Volume.get_info(ctx["vol"].volume_id, api_key=OTHER), "another tenant's get")
    check(isinstance(err, VolumeNotFoundException), repr(err))


async def async_sdk():
    v = await AsyncVolume.create(ctx["name"] + "-async")
    try:
        await v.write_file("/x.txt", "async")
        s = await AsyncSandbox.create("base", volume_mounts={"/mnt/a": v}, timeout=300)
        try:
            r = await s.commands.run("cat /mnt/a/x.txt")
            check(r.stdout == "async", repr(r.stdout))
        finally:
            await s.kill()
    finally:
        check(await AsyncVolume.destroy(v.volume_id) is True, "async destroy")


def destroy():
    check(Volume.destroy(ctx["vol"].volume_id) is True, "destroy")
    check(Volume.destroy(ctx["vol"].volume_id) is False, "destroy again is False (404)")


for name, fn in [
    ("create and the content API", create_and_content),
    ("mount, write, kill, mount again", mount_write_kill_remount),
    ("bad input and other tenants refused", refused),
    ("AsyncVolume and AsyncSandbox", lambda: asyncio.run(async_sdk())),
    ("delete", destroy),
]:
    t0 = time.time()
    try:
        if "vol" not in ctx and fn is not create_and_content and name != "AsyncVolume and AsyncSandbox":
            raise AssertionError("no volume (create failed)")
        fn()
        print(json.dumps({"name": name, "ok": True, "ms": int((time.time() - t0) * 1000)}), flush=True)
    except Exception:
        print(json.dumps({"name": name, "ok": False, "ms": int((time.time() - t0) * 1000), "error": traceback.format_exc()[-2000:]}), flush=True)
