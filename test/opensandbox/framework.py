"""The agent framework backend `agent-sandbox-backends` (PyPI, over the PyPI `opensandbox` SDK),
unchanged, against agentbox: the backend an agent framework (Deep Agents) is handed, driven by
its own tool functions rather than a model. It creates the sandbox through /opensandbox, runs
commands and writes, reads, lists and deletes files through execd (port 44772 in the guest), and
deletes the sandbox on close. Run by test/opensandbox/framework.test.ts with the service URL and
key in OPEN_SANDBOX_DOMAIN and OPEN_SANDBOX_API_KEY. Exits non-zero on the first claim that does
not hold.
"""
import asyncio
import os

from urllib.parse import urlsplit

from agent_sandbox_backends import (CleanupPolicy, CommandExecutionError, FileNotFoundError,
                                    HistoryConfig, HistoryMode, SandboxNotFoundError,
                                    create_backend)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


async def main():
    # create_opensandbox_backend(url) accepts only a service root, and agentbox serves OpenSandbox
    # under /opensandbox; the framework's general entry passes the SDK's own connection settings
    # (domain with its path, protocol, key) through unchanged (docs/opensandbox.md).
    service = urlsplit(os.environ["OPEN_SANDBOX_DOMAIN"])
    backend = await create_backend(
        provider="opensandbox",
        provider_options={
            "domain": service.netloc + service.path,
            "protocol": service.scheme,
            "api_key": os.environ["OPEN_SANDBOX_API_KEY"],
            "ready_timeout_seconds": 120,
        },
        image="base",
        workdir="/home/user",
        cleanup=CleanupPolicy.ON_CLOSE,
        # Not create_opensandbox_backend's default (SANDBOX: SQLite under /.agent-history, which
        # needs commands to run as root; agentbox's run as the template's user).
        history=HistoryConfig(mode=HistoryMode.NONE),
    )
    sandbox_id = backend.ref.sandbox_id
    try:
        info = await backend.info()
        check(info.state.value.lower() == "running", f"sandbox state {info.state!r}")

        r = await backend.execute('echo "hello from $(whoami)"; echo oops >&2; exit 4')
        check(r.stdout_text.strip() == "hello from user", f"stdout {r.stdout!r}")
        check(r.stderr_text.strip() == "oops", f"stderr {r.stderr!r}")
        check(r.exit_code == 4, f"exit code {r.exit_code!r}")
        cwd = await backend.execute("pwd", cwd="/tmp")
        check(cwd.stdout_text.strip() == "/tmp", f"cwd {cwd.stdout!r}")

        await backend.write_file("/home/user/agent/notes.txt", b"line one\nline two\n")
        check(await backend.read_file("/home/user/agent/notes.txt") == b"line one\nline two\n", "read back")
        seen = await backend.execute("wc -l < /home/user/agent/notes.txt")
        check(seen.stdout_text.strip() == "2", f"the file as a command sees it: {seen.stdout!r}")
        names = [e.path.rsplit("/", 1)[-1] for e in await backend.list_files("/home/user/agent")]
        check("notes.txt" in names, f"listing {names!r}")
        await backend.delete_file("/home/user/agent/notes.txt")
        try:
            await backend.read_file("/home/user/agent/notes.txt")
            raise AssertionError("reading a deleted file succeeded")
        except (FileNotFoundError, CommandExecutionError):
            pass
    finally:
        try:
            await backend.close()
        except SandboxNotFoundError:
            # agent-sandbox-backends 0.1.0: without sandbox history, close() deletes the sandbox,
            # then renews its expiry as after any operation and fails on the sandbox it just
            # deleted (as against OpenSandbox). The test checks the sandbox is gone.
            pass
    print(sandbox_id)


asyncio.run(main())
