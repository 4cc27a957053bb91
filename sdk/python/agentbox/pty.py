"""``sbx.pty``: interactive terminals, through the guest's process service (src/sdk/pty.ts)."""
from __future__ import annotations

import asyncio
from typing import Awaitable, Callable, Optional, Union

from ._envd import EnvdClient
from ._process import OutputKind, ProcessEnd, ProcessHandle, call_back, start_process

#: Receives the terminal's output bytes; may be a coroutine function in the async flavour.
PtyDataCallback = Callable[[bytes], Union[None, Awaitable[None]]]


class AsyncPtyHandle(ProcessHandle):
    async def send_input(self, data: str | bytes) -> None:
        await self._calls.send_input("pty", data)

    async def resize(self, cols: int, rows: int) -> None:
        await self._calls.resize(cols, rows)

    async def wait(self) -> ProcessEnd:
        """Returns when the shell exits."""
        return await asyncio.shield(self._ended)


class AsyncPty:
    def __init__(self, envd: EnvdClient) -> None:
        self._envd = envd

    async def create(self, on_data: PtyDataCallback, *, cols: int = 80, rows: int = 24, cmd: Optional[list[str]] = None,
                     envs: Optional[dict[str, str]] = None, cwd: Optional[str] = None, user: Optional[str] = None) -> AsyncPtyHandle:
        """Starts ``cmd`` (default: an interactive ``/bin/sh``) on a terminal of ``cols`` x ``rows``.

        Example::

            term = await sbx.pty.create(lambda d: sys.stdout.buffer.write(d), cols=80, rows=24)
            await term.send_input("ls\\n")
        """
        argv = cmd or ["/bin/sh", "-i"]
        process = {"cmd": argv[0], "args": argv[1:], "envs": {"TERM": "xterm-256color", "LANG": "C.UTF-8", **(envs or {})}}
        if cwd:
            process["cwd"] = cwd

        async def on_output(kind: OutputKind, data: bytes) -> None:
            if kind == "pty":
                await call_back(on_data, data)

        started = await start_process(self._envd, {"process": process, "pty": {"size": {"cols": cols, "rows": rows}}}, on_output, user=user)
        return AsyncPtyHandle(self._envd, started)
