"""The blocking flavour: each class holds its async twin (``_async``) and forwards to it through
_sync.py, so both flavours share one implementation.

Example::

    from agentbox import Sandbox
    sbx = Sandbox.create(template="base")
    print(sbx.commands.run("echo hi").stdout)
    sbx.kill()
"""
from __future__ import annotations

from typing import Generic, Iterator, Literal, Protocol, TypeVar, Union, Unpack, overload

from ._class_or_instance import class_or_instance
from ._config import ConnectionOptions
from ._process import ProcessHandle
from ._sync import blocking, blocking_static, blocking_wrapped, iterate, run
from .commands import AsyncCommandHandle, AsyncCommands, CommandResult, RunOptions
from .events import EventsOptions
from .files import AsyncFiles, AsyncWatchHandle
from .models import Sandbox as SandboxInfo
from .models import SandboxEvent
from .pty import AsyncPty, AsyncPtyHandle
from .sandbox import AllEventsOptions, AsyncSandbox, SandboxCreateOptions, SandboxListOptions
from .templates import AsyncPools, AsyncTemplates
from .volumes import AsyncVolumes

A = TypeVar("A")


class _Forwarding(Generic[A]):
    """Holds the async twin that each blocking method forwards to."""

    def __init__(self, twin: A) -> None:
        self._async = twin


class _ProcessHandle(_Forwarding[ProcessHandle]):
    def __init__(self, handle: ProcessHandle) -> None:
        super().__init__(handle)
        self.pid = handle.pid

    kill = blocking(ProcessHandle.kill)


class CommandHandle(_ProcessHandle):
    """A command running in the background; ``stdout``/``stderr`` grow as it writes."""

    _async: AsyncCommandHandle

    @property
    def stdout(self) -> str:
        return self._async.stdout

    @property
    def stderr(self) -> str:
        return self._async.stderr

    wait = blocking(AsyncCommandHandle.wait)
    send_stdin = blocking(AsyncCommandHandle.send_stdin)
    close_stdin = blocking(AsyncCommandHandle.close_stdin)


class Commands(_Forwarding[AsyncCommands]):
    @overload
    def run(self, cmd: str | list[str], *, background: Literal[True], **opts: Unpack[RunOptions]) -> CommandHandle: ...

    @overload
    def run(self, cmd: str | list[str], *, background: Literal[False] = False, **opts: Unpack[RunOptions]) -> CommandResult: ...

    def run(self, cmd: str | list[str], *, background: bool = False, **opts: Unpack[RunOptions]) -> Union[CommandResult, CommandHandle]:
        """As ``AsyncCommands.run``; callbacks run on the SDK's thread."""
        result = run(self._async.run(cmd, background=background, **opts))  # type: ignore[call-overload]
        return CommandHandle(result) if isinstance(result, AsyncCommandHandle) else result


class WatchHandle(_Forwarding[AsyncWatchHandle]):
    stop = blocking(AsyncWatchHandle.stop)
    wait = blocking(AsyncWatchHandle.wait)


class Files(_Forwarding[AsyncFiles]):
    read = blocking(AsyncFiles.read)
    write = blocking(AsyncFiles.write)
    list = blocking(AsyncFiles.list)
    get_info = blocking(AsyncFiles.get_info)
    exists = blocking(AsyncFiles.exists)
    remove = blocking(AsyncFiles.remove)
    watch = blocking_wrapped(AsyncFiles.watch, WatchHandle)

    def read_stream(self, path: str) -> Iterator[bytes]:
        """The file's bytes as they arrive, for files too big to hold in memory."""
        return iterate(self._async.read_stream(path))


class PtyHandle(_ProcessHandle):
    send_input = blocking(AsyncPtyHandle.send_input)
    resize = blocking(AsyncPtyHandle.resize)
    wait = blocking(AsyncPtyHandle.wait)


class Pty(_Forwarding[AsyncPty]):
    create = blocking_wrapped(AsyncPty.create, PtyHandle)


def _all_events(**opts: Unpack[AllEventsOptions]) -> Iterator[SandboxEvent]:
    """As ``AsyncSandbox.events``; with ``follow``, it blocks for the next event until the loop is left."""
    return iterate(AsyncSandbox.events(**opts))


class OwnEvents(Protocol):
    """``sbx.events(...)``: this sandbox's lifecycle events."""

    def __call__(self, **opts: Unpack[EventsOptions]) -> Iterator[SandboxEvent]: ...


def _events_of(sbx: "Sandbox") -> OwnEvents:
    def events(**opts: Unpack[EventsOptions]) -> Iterator[SandboxEvent]:
        return iterate(sbx._async.events(**opts))
    return events


class Sandbox(_Forwarding[AsyncSandbox]):
    """A sandbox; see ``AsyncSandbox`` for what each method does."""

    def __init__(self, sandbox: AsyncSandbox) -> None:
        super().__init__(sandbox)
        self.sandbox_id = sandbox.sandbox_id
        self.commands = Commands(sandbox.commands)
        self.files = Files(sandbox.files)
        self.pty = Pty(sandbox.pty)

    @property
    def id(self) -> str:
        return self.sandbox_id

    @classmethod
    def create(cls, **opts: Unpack[SandboxCreateOptions]) -> "Sandbox":
        return cls(run(AsyncSandbox.create(**opts)))

    @classmethod
    def connect(cls, sandbox_id: str, **opts: Unpack[ConnectionOptions]) -> "Sandbox":
        """Attaches to an existing sandbox; a paused one is resumed."""
        return cls(run(AsyncSandbox.connect(sandbox_id, **opts)))

    @staticmethod
    def list(**opts: Unpack[SandboxListOptions]) -> Iterator[SandboxInfo]:
        """All matching sandboxes, newest first, fetching pages as it goes."""
        return iterate(AsyncSandbox.list(**opts))

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        """``with Sandbox.create() as sbx:`` kills the sandbox at the end of the block."""
        run(self._async.__aexit__(*exc))

    get_info = blocking(AsyncSandbox.get_info)
    pause = blocking(AsyncSandbox.pause)
    resume = blocking(AsyncSandbox.resume)
    set_timeout = blocking(AsyncSandbox.set_timeout)
    fork = blocking_wrapped(AsyncSandbox.fork, lambda forked: Sandbox(forked))
    usage = blocking(AsyncSandbox.usage)
    kill = blocking(AsyncSandbox.kill)
    close = blocking(AsyncSandbox.close)

    #: ``Sandbox.events(**opts)``: every sandbox's events; ``sbx.events(**opts)``: this one's.
    events = class_or_instance(_all_events, _events_of)

    def logs(self, *, follow: bool = False) -> Iterator[str]:
        """As ``AsyncSandbox.logs``."""
        return iterate(self._async.logs(follow=follow))

    def get_host(self, port: int) -> str:
        return self._async.get_host(port)


class Templates:
    list = blocking_static(AsyncTemplates.list)
    build = blocking_static(AsyncTemplates.build)
    upload = blocking_static(AsyncTemplates.upload)


class Pools:
    set = blocking_static(AsyncPools.set)
    get = blocking_static(AsyncPools.get)
    list = blocking_static(AsyncPools.list)
    delete = blocking_static(AsyncPools.delete)


class Volumes:
    create = blocking_static(AsyncVolumes.create)
    get = blocking_static(AsyncVolumes.get)
    list = blocking_static(AsyncVolumes.list)
    delete = blocking_static(AsyncVolumes.delete)
