"""``sbx.files``: content and directories inside a sandbox, through the server's files routes
(src/sdk/files.ts), plus streamed reads and writes for files too big to hold in memory."""
from __future__ import annotations

import asyncio
from typing import AsyncGenerator, Awaitable, Callable, Literal, Optional, Union, overload

from ._http import ApiClient, Body, body_content, guarded, no_stream, sandbox_path
from ._process import call_back
from .errors import NotFoundError
from .models import FileEntry, WatchChange

#: Receives each change under a watched directory; may be a coroutine function in the async flavour.
WatchCallback = Callable[[WatchChange], Union[None, Awaitable[None]]]


class AsyncWatchHandle:
    def __init__(self, task: "asyncio.Task[None]") -> None:
        self._task = task

    async def stop(self) -> None:
        """Stops watching; no event is delivered after it returns."""
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)

    async def wait(self) -> None:
        """Returns when the watch ended by itself (the sandbox went away); raises its error."""
        await asyncio.shield(self._task)


class AsyncFiles:
    def __init__(self, api: ApiClient, sandbox_id: str) -> None:
        self._api = api
        self._path = sandbox_path(sandbox_id, "/files")

    @overload
    async def read(self, path: str, format: Literal["text"] = "text") -> str: ...

    @overload
    async def read(self, path: str, format: Literal["bytes"]) -> bytes: ...

    async def read(self, path: str, format: Literal["text", "bytes"] = "text") -> Union[str, bytes]:
        """Example: ``await sbx.files.read("/etc/hostname")``, ``await sbx.files.read("/bin/sh", "bytes")``."""
        res = await self._api.request("GET", self._path, query={"path": path})
        return res.content if format == "bytes" else res.text

    async def read_stream(self, path: str) -> AsyncGenerator[bytes, None]:
        """The file's bytes as they arrive, for files too big to hold in memory."""
        async with self._api.stream("GET", self._path, query={"path": path}) as res:
            async for chunk in guarded(res, res.aiter_bytes()):
                yield chunk

    async def write(self, path: str, data: Body) -> FileEntry:
        """Writes a file, creating parent directories; a file object or an iterable is streamed."""
        return FileEntry.from_json(await self._api.json("PUT", self._path, query={"path": path}, content=body_content(data), timeout_ms=0))

    async def list(self, path: str, depth: Optional[int] = None) -> list[FileEntry]:
        body = await self._api.json("GET", self._path + "/list", query={"path": path, "depth": depth})
        return [FileEntry.from_json(e) for e in body["entries"]]

    async def get_info(self, path: str) -> FileEntry:
        return FileEntry.from_json(await self._api.json("GET", self._path + "/stat", query={"path": path}))

    async def exists(self, path: str) -> bool:
        try:
            await self.get_info(path)
            return True
        except NotFoundError:
            return False

    async def remove(self, path: str) -> None:
        """Removes a file or a directory tree."""
        await self._api.request("DELETE", self._path, query={"path": path})

    async def watch(self, path: str, on_event: WatchCallback) -> AsyncWatchHandle:
        """Calls ``on_event`` for changes under ``path`` (recursive) until ``stop()``. Returns once the
        watch is live inside the sandbox: every change made after that is reported.

        Example::

            w = await sbx.files.watch("/work", lambda e: print(e.type, e.name))
            await sbx.files.write("/work/a.txt", "x")  # reported
            await w.stop()
        """
        events = self._api.ndjson("GET", self._path + "/watch", query={"path": path})
        first = await anext(events, None)
        if first is None or first.get("type") != "start":
            await events.aclose()
            raise no_stream(f"the watch of {path}")

        async def deliver() -> None:
            async for event in events:
                await call_back(on_event, WatchChange.from_json(event))

        return AsyncWatchHandle(asyncio.ensure_future(deliver()))
