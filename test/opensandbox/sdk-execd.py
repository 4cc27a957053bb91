"""Command and file scenarios of the PyPI `opensandbox` SDK, unchanged, against agentbox: the
lifecycle through /opensandbox and execd (port 44772 in the sandbox's guest) through the endpoint
the façade names. Run by test/opensandbox/sdk-execd.test.ts with only the SDK's own environment
(OPEN_SANDBOX_DOMAIN, OPEN_SANDBOX_API_KEY). The create keeps the SDK's health check on: it waits
for execd's /ping. Exits non-zero on the first scenario that does not hold.
"""
import asyncio

from opensandbox import Sandbox
from opensandbox.models.execd import RunCommandOpts
from opensandbox.models.filesystem import (ContentReplaceEntry, MoveEntry, SearchEntry,
                                            SetPermissionEntry, WriteEntry)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


async def until(what, fn, tries=100):
    for _ in range(tries):
        v = await fn()
        if v:
            return v
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def main():
    sbx = await Sandbox.create("base")
    try:
        r = await sbx.commands.run('echo "Hello OpenSandbox"; echo err >&2')
        check([m.text for m in r.logs.stdout] == ["Hello OpenSandbox"], f"stdout {r.logs.stdout!r}")
        check([m.text for m in r.logs.stderr] == ["err"], f"stderr {r.logs.stderr!r}")
        failed = await sbx.commands.run("exit 3")
        check(failed.error is not None and failed.error.value == "3", f"exit 3 gave {failed.error!r}")

        bg = await sbx.commands.run("echo a; echo b", opts=RunCommandOpts(background=True))
        await until("the background command to end", lambda: _done(sbx, bg.id))
        logs = await sbx.commands.get_background_command_logs(bg.id)
        check("a\nb" in logs.content, f"background logs {logs.content!r}")
        long = await sbx.commands.run("sleep 60", opts=RunCommandOpts(background=True))
        await sbx.commands.interrupt(long.id)
        await until("the interrupted command to end", lambda: _done(sbx, long.id))

        sid = await sbx.commands.create_session(working_directory="/tmp")
        await sbx.commands.run_in_session(sid, "export K=v; cd /")
        s2 = await sbx.commands.run_in_session(sid, "echo $K $PWD")
        check(s2.logs.stdout[0].text == "v /", f"session kept no state: {s2.logs.stdout!r}")
        await sbx.commands.delete_session(sid)

        await sbx.files.write_files([WriteEntry(path="/home/user/py/a.txt", data="hello py\n", mode=644)])
        check(await sbx.files.read_file("/home/user/py/a.txt") == "hello py\n", "read back")
        info = await sbx.files.get_file_info(["/home/user/py/a.txt"])
        check(info["/home/user/py/a.txt"].size == 9, f"file info {info!r}")
        found = await sbx.files.search(SearchEntry(path="/home/user/py", pattern="*.txt"))
        check([f.path for f in found] == ["/home/user/py/a.txt"], f"search {found!r}")
        await sbx.files.replace_contents([ContentReplaceEntry(path="/home/user/py/a.txt", old_content="hello", new_content="bye")])
        await sbx.files.create_directories([WriteEntry(path="/home/user/py/d/e", mode=755)])
        await sbx.files.move_files([MoveEntry(src="/home/user/py/a.txt", dest="/home/user/py/d/e/b.txt")])
        await sbx.files.set_permissions([SetPermissionEntry(path="/home/user/py/d/e/b.txt", mode=600)])
        check(await sbx.files.read_file("/home/user/py/d/e/b.txt") == "bye py\n", "replaced and moved")
        mode = await sbx.commands.run("stat -c %a /home/user/py/d/e/b.txt")
        check(mode.logs.stdout[0].text == "600", f"mode {mode.logs.stdout!r}")
        await sbx.files.delete_directories(["/home/user/py/d"])
        gone = await sbx.commands.run("test -e /home/user/py/d && echo there || echo gone")
        check(gone.logs.stdout[0].text == "gone", "directory deleted")

        metrics = await sbx.get_metrics()
        check(metrics.cpu_count > 0 and metrics.memory_total_in_mib > 0, f"metrics {metrics!r}")
    finally:
        await sbx.kill()


async def _done(sbx, command_id):
    return not (await sbx.commands.get_command_status(command_id)).running


asyncio.run(main())
