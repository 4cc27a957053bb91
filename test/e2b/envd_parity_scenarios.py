"""The envd 0.6.x scenarios (issue 15, groups 1, 3 and 6) for the PyPI `e2b` SDK, unchanged, run by
envd-parity.test.ts in the SDK's virtualenv: the sync client (watching by polling: CreateWatcher /
GetWatcherEvents) and the async one (a streamed WatchDir). Connection from E2B_API_KEY /
E2B_API_URL / E2B_SANDBOX_URL. Prints one JSON line per scenario: {name, ok, error?, ms}."""
import asyncio, time
from e2b import AsyncSandbox, FileType, FilesystemEventType, Sandbox
from scenario_runner import check, poll, run_scenarios

ctx = {}
META = {"author": "mish", "purpose": "upload"}


def same(a, b, msg):
    check(a == b, f"{msg}: expected {b!r}, got {a!r}")


def create():
    ctx["sbx"] = Sandbox.create("base", timeout=300)


def metadata_round_trip():
    f = ctx["sbx"].files
    same(f.write("/home/user/meta/a.txt", "multipart", metadata=META).metadata, META, "write (multipart) answer")
    same(f.write("/home/user/meta/b.txt", "octet", metadata=META, use_octet_stream=True).metadata, META, "write (octet-stream) answer")
    same(f.get_info("/home/user/meta/a.txt").metadata, META, "get_info")
    same([(e.name, e.metadata) for e in f.list("/home/user/meta")], [("a.txt", META), ("b.txt", META)], "list")
    same(f.rename("/home/user/meta/b.txt", "/home/user/meta/c.txt").metadata, META, "rename")
    same(f.write("/home/user/meta/a.txt", "again").metadata, None, "overwrite without metadata")
    same(f.get_info("/home/user/meta/a.txt").metadata, None, "get_info after the overwrite")


def polling_watch_with_entry():
    f = ctx["sbx"].files
    f.make_dir("/home/user/polled")
    handle = f.watch_dir("/home/user/polled", include_entry=True)
    try:
        f.write("/home/user/polled/p.txt", "polled", metadata={"tag": "seen"})
        events = []

        def seen(pred):
            events.extend(handle.get_new_events())
            return next((e for e in events if pred(e)), None)

        ev = poll(lambda: seen(lambda e: e.name == "p.txt" and e.entry is not None and e.entry.metadata == {"tag": "seen"}), "an event whose entry has the metadata", 15)
        same((ev.entry.name, ev.entry.type, ev.entry.path), ("p.txt", FileType.FILE, "/home/user/polled/p.txt"), "event entry")
        f.remove("/home/user/polled/p.txt")
        removed = poll(lambda: seen(lambda e: e.name == "p.txt" and e.type == FilesystemEventType.REMOVE), "the remove event", 15)
        same(removed.entry, None, "entry of a removal")
    finally:
        handle.stop()


def async_streamed_watch_with_entry():
    async def run():
        sbx = await AsyncSandbox.connect(ctx["sbx"].sandbox_id)
        await sbx.files.make_dir("/home/user/streamed")
        events = []
        handle = await sbx.files.watch_dir("/home/user/streamed", events.append, include_entry=True, allow_network_mounts=True, timeout=0)
        try:
            await sbx.files.write("/home/user/streamed/s.txt", "streamed", metadata={"tag": "seen"})
            end = time.time() + 15
            while not any(e.name == "s.txt" and e.entry is not None and e.entry.metadata == {"tag": "seen"} for e in events):
                check(time.time() < end, f"no event whose entry has the metadata: {events}")
                await asyncio.sleep(0.05)
            await sbx.files.remove("/home/user/streamed/s.txt")
            await sbx.files.remove("/home/user/streamed/never-was.txt")
            end = time.time() + 15
            while not any(e.name == "s.txt" and e.type == FilesystemEventType.REMOVE for e in events):
                check(time.time() < end, f"no remove event: {events}")
                await asyncio.sleep(0.05)
            same([e.entry for e in events if e.type == FilesystemEventType.REMOVE], [None], "entry of a removal")
        finally:
            await handle.stop()

    asyncio.run(run())


def remove_missing():
    ctx["sbx"].files.remove("/home/user/never-was.txt")
    ctx["sbx"].files.remove("/home/user/no/such/dir")
    check(not ctx["sbx"].files.exists("/home/user/never-was.txt"), "still missing")


def symlink_info():
    # PyPI e2b reads `is_symlink` (EntryInfo field 12), so a link is a SYMLINK here whose target
    # is resolved; npm e2b 2.51 shows the target's type instead (envd-parity-scenarios.mjs).
    f = ctx["sbx"].files
    f.write("/home/user/links/real.txt", "real")
    r = ctx["sbx"].commands.run("cd /home/user/links && ln -s real.txt to-file && ln -s to-file chain")
    same(r.exit_code, 0, "ln")
    for name in ("to-file", "chain"):
        info = f.get_info(f"/home/user/links/{name}")
        same((info.type, info.symlink_target), (FileType.SYMLINK, "/home/user/links/real.txt"), f"get_info {name}")
    same([(e.name, e.type, e.symlink_target) for e in f.list("/home/user/links")], [
        ("chain", FileType.SYMLINK, "/home/user/links/real.txt"),
        ("real.txt", FileType.FILE, None),
        ("to-file", FileType.SYMLINK, "/home/user/links/real.txt"),
    ], "list")


run_scenarios([
    ("create", create),
    ("write with metadata; get_info, list and rename return it; an overwrite replaces it", metadata_round_trip),
    ("sync watch_dir (polling) with include_entry", polling_watch_with_entry),
    ("async watch_dir (streamed) with include_entry and allow_network_mounts", async_streamed_watch_with_entry),
    ("remove of a missing path is a no-op", remove_missing),
    ("get_info and list of a symlink", symlink_info),
], ctx, create, lambda sbx: sbx.kill())
