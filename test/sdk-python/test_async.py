"""The asyncio flavour (``from agentbox import AsyncSandbox``) against real gVisor sandboxes: the
same calls awaited, coroutine callbacks, concurrency on one event loop, async iteration."""
from __future__ import annotations

import asyncio

import pytest

from agentbox import AsyncSandbox, AsyncTemplates, AsyncVolumes, CommandExitError, ConflictError, NotFoundError, WatchChange

pytestmark = pytest.mark.anyio


async def test_lifecycle_and_concurrent_commands() -> None:
    sbx = await AsyncSandbox.create(template="base", metadata={"flavour": "async"})
    try:
        results = await asyncio.gather(*(sbx.commands.run(f"echo {i}") for i in range(5)))
        assert [r.stdout for r in results] == [f"{i}\n" for i in range(5)]
        listed = [info.id async for info in AsyncSandbox.list(metadata={"flavour": "async"})]
        assert listed == [sbx.sandbox_id]
        assert (await sbx.pause()).state == "paused"
        with pytest.raises(ConflictError):
            await sbx.commands.run("true")
        assert (await sbx.resume()).state == "running"
        assert (await sbx.commands.run("echo back")).stdout == "back\n"
    finally:
        await sbx.kill()
        await sbx.close()
    with pytest.raises(NotFoundError):
        await AsyncSandbox.connect(sbx.sandbox_id)


async def test_coroutine_callbacks_background_and_pty() -> None:
    sbx = await AsyncSandbox.create(template="base")
    try:
        seen: list[str] = []

        async def on_stdout(data: str) -> None:
            seen.append(data)

        await sbx.commands.run("echo streamed", on_stdout=on_stdout)
        assert seen == ["streamed\n"]

        got_line = asyncio.Event()

        async def on_line(data: str) -> None:
            if "got:ping" in data:
                got_line.set()

        h = await sbx.commands.run("read l; echo got:$l; exit 2", background=True, on_stdout=on_line)
        await h.send_stdin("ping\n")
        await asyncio.wait_for(got_line.wait(), 60)
        with pytest.raises(CommandExitError) as err:
            await h.wait()
        assert err.value.exit_code == 2 and err.value.stdout == "got:ping\n"

        screen = bytearray()
        answered = asyncio.Event()

        def on_data(data: bytes) -> None:
            screen.extend(data)
            if b"py-pty-ok" in screen:
                answered.set()

        term = await sbx.pty.create(on_data)
        await term.send_input("echo py-pty-$((1-1))k | tr 0 o\n")
        await asyncio.wait_for(answered.wait(), 60)
        assert await term.kill() is True
        assert not (await term.wait()).exited
    finally:
        await sbx.kill()


async def test_files_watch_and_fork() -> None:
    async with await AsyncSandbox.create(template="base") as sbx:
        await sbx.files.write("/tmp/dir/seed", "s")
        changes: asyncio.Queue[WatchChange] = asyncio.Queue()
        w = await sbx.files.watch("/tmp/dir", changes.put)
        await sbx.files.write("/tmp/dir/x.txt", "x")
        change = await asyncio.wait_for(changes.get(), 60)
        assert change.name == "x.txt"
        await w.stop()

        async def parts():
            yield b"async "
            yield b"chunks"

        await sbx.files.write("/tmp/dir/streamed", parts())
        assert b"".join([c async for c in sbx.files.read_stream("/tmp/dir/streamed")]) == b"async chunks"
        async with await sbx.fork() as child:
            assert await child.files.read("/tmp/dir/streamed", "bytes") == b"async chunks"
    with pytest.raises(NotFoundError):
        await AsyncSandbox.connect(sbx.sandbox_id)


async def test_templates_async() -> None:
    assert "busybox" in [t.name for t in await AsyncTemplates.list()]


async def test_events_followed_and_volumes_async() -> None:
    volume = await AsyncVolumes.create("py-sdk-async", size_mib=32)
    sbx = await AsyncSandbox.create(template="busybox", volumes=[{"name": "py-sdk-async", "path": "/mnt/v"}])
    live = sbx.events(follow=True)
    try:
        assert (await asyncio.wait_for(anext(live), 60)).type == "sandbox.lifecycle.created"
        await sbx.kill()
        killed = await asyncio.wait_for(anext(live), 60)
        assert (killed.type, killed.sandbox_id) == ("sandbox.lifecycle.killed", sbx.sandbox_id)
    finally:
        await live.aclose()
        await sbx.close()
    assert [e.type async for e in AsyncSandbox.events(sandbox_id=sbx.sandbox_id)][-1] == "sandbox.lifecycle.killed"
    await AsyncVolumes.delete(volume.id)
    assert "py-sdk-async" not in [v.name for v in await AsyncVolumes.list()]
