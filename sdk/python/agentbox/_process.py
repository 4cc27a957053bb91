"""A process started through the guest's ``process.Process/Start`` stream (background commands and
PTYs), as in src/sdk/process-stream.ts: the first message carries the pid, then output, then
exactly one end (keep-alives are skipped)."""
from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Literal, Optional

from ._envd import EnvdClient
from .errors import AgentboxSdkError, UnavailableError

OutputKind = Literal["stdout", "stderr", "pty"]


@dataclass(frozen=True)
class ProcessEnd:
    exit_code: int
    #: True when the process exited by itself (not by a signal).
    exited: bool
    status: Optional[str] = None
    error: Optional[str] = None


@dataclass(frozen=True)
class StartedProcess:
    pid: int
    #: Resolves with the end once the process ended.
    ended: "asyncio.Task[ProcessEnd]"


def _not_first() -> AgentboxSdkError:
    return AgentboxSdkError("internal", "the guest did not send the start event first")


async def start_process(envd: EnvdClient, request: dict[str, Any], on_data: Callable[[OutputKind, bytes], Awaitable[None]], *,
                        user: Optional[str] = None, timeout_ms: int = 0) -> StartedProcess:
    events = envd.stream("process.Process/Start", request, user=user, timeout_ms=timeout_ms)
    async for message in events:
        event = message.get("event", {})
        if "keepalive" in event:
            continue
        if "start" not in event:
            raise _not_first()
        break
    else:
        raise _not_first()

    async def read_to_end() -> ProcessEnd:
        async for message in events:
            event = message.get("event", {})
            if "data" in event:
                for kind, data in event["data"].items():
                    await on_data(kind, base64.b64decode(data))
            elif "end" in event:
                end = event["end"]
                return ProcessEnd(end.get("exitCode", 0), end.get("exited", False), end.get("status"), end.get("error"))
        raise UnavailableError("unavailable", "the process stream ended without an end event")

    return StartedProcess(int(event["start"].get("pid", 0)), asyncio.ensure_future(read_to_end()))


class ProcessCalls:
    """The unary calls on one started process, shared by command handles and PTYs."""

    def __init__(self, envd: EnvdClient, pid: int) -> None:
        self._envd = envd
        self._process = {"process": {"pid": pid}}

    async def send_input(self, kind: Literal["stdin", "pty"], data: str | bytes) -> None:
        raw = data.encode() if isinstance(data, str) else data
        await self._envd.unary("process.Process/SendInput", {**self._process, "input": {kind: base64.b64encode(raw).decode()}})

    async def kill(self) -> bool:
        """SIGKILL; False when the process was already gone."""
        try:
            await self._envd.unary("process.Process/SendSignal", {**self._process, "signal": "SIGNAL_SIGKILL"})
            return True
        except AgentboxSdkError as err:
            if err.code == "not_found":
                return False
            raise

    async def close_stdin(self) -> None:
        await self._envd.unary("process.Process/CloseStdin", self._process)

    async def resize(self, cols: int, rows: int) -> None:
        await self._envd.unary("process.Process/Update", {**self._process, "pty": {"size": {"cols": cols, "rows": rows}}})


class ProcessHandle:
    """What background commands and PTYs share: the pid, the end, and the calls on the process."""

    def __init__(self, envd: EnvdClient, started: StartedProcess) -> None:
        self.pid = started.pid
        self._ended = started.ended
        self._calls = ProcessCalls(envd, started.pid)

    async def kill(self) -> bool:
        """SIGKILL; False when the process was already gone."""
        return await self._calls.kill()


async def call_back(fn: Optional[Callable[[Any], Any]], value: Any) -> None:
    """Calls a user callback, awaiting it when it is a coroutine function's."""
    if fn is not None:
        result = fn(value)
        if asyncio.iscoroutine(result):
            await result
