"""``AsyncSandbox``: the SDK's entry point (src/sdk/sandbox.ts). Create, connect to or list
sandboxes, then drive one through ``commands``, ``files`` and ``pty``.

Example::

    sbx = await AsyncSandbox.create(template="base", metadata={"user": "u1"})
    print((await sbx.commands.run("python3 -c 'print(1+1)'")).stdout)
    await sbx.kill()
"""
from __future__ import annotations

import math
import urllib.parse
from typing import Any, AsyncGenerator, AsyncIterator, Awaitable, Literal, Optional, Protocol, TypedDict, TypeVar, Unpack, cast

from ._class_or_instance import class_or_instance
from ._config import ConnectionOptions, resolve_connection
from ._envd import EnvdClient
from ._http import ApiClient, guarded, sandbox_path
from .commands import AsyncCommands
from .events import EventsOptions, sandbox_events
from .files import AsyncFiles
from .models import Sandbox as SandboxInfo
from .models import SandboxEvent, SandboxUsage
from .pty import AsyncPty
from .volumes import VolumeMount

T = TypeVar("T")


class NetworkPolicy(TypedDict, total=False):
    default_action: Literal["allow", "deny"]
    allow: list[str]
    deny: list[str]


class SandboxCreateOptions(ConnectionOptions, total=False):
    #: Default ``base``.
    template: str
    runtime: Literal["gvisor", "runc"]
    #: Sandbox lifetime, ms (rounded up to seconds); default 300 000.
    timeout_ms: int
    #: What the timeout does: kill (default), pause (memory and processes kept) or pause_filesystem (files only).
    on_timeout: Literal["kill", "pause", "pause_filesystem"]
    #: With a pausing on_timeout: resume on traffic to one of its ports.
    auto_resume: bool
    envs: dict[str, str]
    metadata: dict[str, str]
    cpu: float
    memory_mib: int
    #: Size of the sandbox's disk (its writable layer); a full disk is ENOSPC inside.
    disk_mib: int
    network: NetworkPolicy
    #: Volumes of the tenant to mount (``AsyncVolumes``); such a sandbox cannot be forked.
    volumes: list[VolumeMount]


class SandboxListOptions(ConnectionOptions, total=False):
    metadata: dict[str, str]
    state: list[Literal["running", "paused", "creating", "failed"]]
    template: str
    #: Page size (default 100).
    limit: int


def _seconds(ms: int) -> int:
    return math.ceil(ms / 1000)


def _split(opts: Any) -> tuple[ApiClient, dict[str, Any]]:
    """The connection options made into a client, and the rest."""
    conn_keys = ConnectionOptions.__annotations__.keys()
    api = ApiClient(resolve_connection(**{k: v for k, v in opts.items() if k in conn_keys}))
    return api, {k: v for k, v in opts.items() if k not in conn_keys}


class AllEventsOptions(EventsOptions, ConnectionOptions, total=False):
    #: Only this sandbox's events.
    sandbox_id: str


async def _all_events(**opts: Unpack[AllEventsOptions]) -> AsyncGenerator[SandboxEvent, None]:
    """Lifecycle events of the caller's sandboxes (an admin's: every tenant's), oldest first: created,
    updated, paused, resumed, killed, whichever API or timeout caused them.

    Example::

        async for e in AsyncSandbox.events(follow=True): print(e.type, e.sandbox_id)
    """
    api, o = _split(opts)
    try:
        sandbox_id = o.pop("sandbox_id", None)
        async for e in sandbox_events(api, sandbox_id, cast(EventsOptions, o)):
            yield e
    finally:
        await api.aclose()


class OwnEvents(Protocol):
    """``sbx.events(...)``: this sandbox's lifecycle events (see ``AsyncSandbox.events``)."""

    def __call__(self, **opts: Unpack[EventsOptions]) -> AsyncGenerator[SandboxEvent, None]: ...


def _events_of(sbx: "AsyncSandbox") -> OwnEvents:
    def events(**opts: Unpack[EventsOptions]) -> AsyncGenerator[SandboxEvent, None]:
        return sandbox_events(sbx._api, sbx.sandbox_id, opts)
    return events


async def _or_close(api: ApiClient, call: Awaitable[T]) -> T:
    """The result of a sandbox's first call; when it fails, nobody gets the client, so it is closed here."""
    try:
        return await call
    except BaseException:
        await api.aclose()
        raise


class AsyncSandbox:
    def __init__(self, api: ApiClient, info: SandboxInfo) -> None:
        envd = EnvdClient(api, info.id)
        self.sandbox_id = info.id
        self.commands = AsyncCommands(api, envd, info.id)
        self.files = AsyncFiles(api, info.id)
        self.pty = AsyncPty(envd)
        self._api = api
        self._path = sandbox_path(info.id)

    @property
    def id(self) -> str:
        """Same as ``sandbox_id``."""
        return self.sandbox_id

    @classmethod
    async def create(cls, **opts: Unpack[SandboxCreateOptions]) -> "AsyncSandbox":
        api, o = _split(opts)
        body: dict[str, Any] = {"template": o.pop("template", "base")}
        if "timeout_ms" in o:
            body["timeoutSeconds"] = _seconds(o.pop("timeout_ms"))
        if "network" in o:
            network = o.pop("network")
            body["network"] = {"defaultAction" if k == "default_action" else k: v for k, v in network.items()}
        names = {"envs": "env", "on_timeout": "onTimeout", "auto_resume": "autoResume", "memory_mib": "memoryMiB", "disk_mib": "diskMiB"}
        body.update({names.get(k, k): v for k, v in o.items()})
        return cls(api, SandboxInfo.from_json(await _or_close(api, api.json("POST", "/v1/sandboxes", json_body=body, timeout_ms=0))))

    @classmethod
    async def connect(cls, sandbox_id: str, **opts: Unpack[ConnectionOptions]) -> "AsyncSandbox":
        """Attaches to an existing sandbox; a paused one is resumed."""
        api, _ = _split(opts)

        async def running() -> SandboxInfo:
            info = SandboxInfo.from_json(await api.json("GET", sandbox_path(sandbox_id)))
            if info.state != "paused":
                return info
            return SandboxInfo.from_json(await api.json("POST", sandbox_path(sandbox_id, "/resume"), timeout_ms=0))

        return cls(api, await _or_close(api, running()))

    @classmethod
    async def list(cls, **opts: Unpack[SandboxListOptions]) -> AsyncIterator[SandboxInfo]:
        """All matching sandboxes, newest first, fetching pages as it goes.

        Example::

            async for info in AsyncSandbox.list(metadata={"user": "u1"}): print(info.id)
        """
        api, o = _split(opts)
        try:
            # One `k=v&k2=v2` string with each key and value URL-encoded (the server splits, then decodes).
            metadata = "&".join(f"{urllib.parse.quote(k, safe='')}={urllib.parse.quote(v, safe='')}" for k, v in o.get("metadata", {}).items()) or None
            query: dict[str, Any] = {"metadata": metadata, "state": ",".join(o["state"]) if o.get("state") else None,
                                     "template": o.get("template"), "limit": o.get("limit")}
            while True:
                page = await api.json("GET", "/v1/sandboxes", query=query)
                for info in page["sandboxes"]:
                    yield SandboxInfo.from_json(info)
                query["nextToken"] = page.get("nextToken")
                if not query["nextToken"]:
                    return
        finally:
            await api.aclose()

    #: ``AsyncSandbox.events(**opts)``: every sandbox's events; ``sbx.events(**opts)``: this one's.
    events = class_or_instance(_all_events, _events_of)

    async def _update(self, method: str, rest: str = "", **kw: Any) -> SandboxInfo:
        return SandboxInfo.from_json(await self._api.json(method, self._path + rest, **kw))

    async def get_info(self) -> SandboxInfo:
        """The latest server view (state, timeout, metadata…)."""
        return await self._update("GET")

    async def pause(self) -> SandboxInfo:
        """Checkpoints the sandbox; a paused sandbox holds no memory and keeps its processes."""
        return await self._update("POST", "/pause", timeout_ms=0)

    async def resume(self) -> SandboxInfo:
        return await self._update("POST", "/resume", timeout_ms=0)

    async def set_timeout(self, timeout_ms: int) -> SandboxInfo:
        """Resets the timeout to ``timeout_ms`` from now (rounded up to seconds)."""
        return await self._update("POST", "/timeout", json_body={"timeoutSeconds": _seconds(timeout_ms)})

    async def fork(self, *, metadata: Optional[dict[str, str]] = None, timeout_ms: Optional[int] = None) -> "AsyncSandbox":
        """A running copy of this sandbox (memory, processes and files)."""
        body: dict[str, Any] = {}
        if metadata is not None:
            body["metadata"] = metadata
        if timeout_ms is not None:
            body["timeoutSeconds"] = _seconds(timeout_ms)
        info = await self._update("POST", "/fork", json_body=body, timeout_ms=0)
        # The copy gets a client of its own, so closing either leaves the other usable.
        return type(self)(ApiClient(self._api.conn), info)

    async def logs(self, *, follow: bool = False) -> AsyncGenerator[str, None]:
        """The sandbox's console as text: its guest daemon's log (JSON lines) with its start
        command's output. With ``follow``, it goes on with what comes next until the sandbox ends."""
        async with self._api.stream("GET", self._path + "/logs", query={"follow": "true" if follow else None}) as res:
            async for text in guarded(res, res.aiter_text()):
                yield text

    async def usage(self) -> SandboxUsage:
        """CPU time, memory, pids and disk the running sandbox uses now."""
        return SandboxUsage.from_json(await self._api.json("GET", self._path + "/usage"))

    async def kill(self) -> None:
        await self._api.request("DELETE", self._path)

    async def __aenter__(self) -> "AsyncSandbox":
        return self

    async def __aexit__(self, *exc: object) -> None:
        """``async with await AsyncSandbox.create() as sbx:`` kills the sandbox at the end of the block."""
        try:
            await self.kill()
        finally:
            await self.close()

    async def close(self) -> None:
        """Releases this object's connections (the sandbox keeps running)."""
        await self._api.aclose()

    def get_host(self, port: int) -> str:
        """The host (and path) where ``port`` inside the sandbox is reached: ``<port>-<id>.<domain>``
        when the server has a routing domain, else ``<server>/v1/sandboxes/<id>/ports/<port>``
        (which needs the key)."""
        server = urllib.parse.urlsplit(self._api.conn.api_url)
        if self._api.conn.domain:
            return f"{port}-{self.sandbox_id}.{self._api.conn.domain}" + (f":{server.port}" if server.port else "")
        return f"{server.netloc}/v1/sandboxes/{self.sandbox_id}/ports/{port}"
