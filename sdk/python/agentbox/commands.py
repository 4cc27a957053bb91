"""``sbx.commands``: run a command to completion (streamed through the server's exec route) or in the
background (through the guest, with a handle to wait, kill and write stdin), as src/sdk/commands.ts."""
from __future__ import annotations

import asyncio
import base64
import codecs
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Literal, Optional, TypedDict, Union, Unpack, overload

from ._envd import EnvdClient
from ._http import ApiClient, no_stream, sandbox_path
from ._process import OutputKind, ProcessHandle, StartedProcess, call_back, start_process
from .errors import CommandExitError
from .models import ExecResult

#: Receives a chunk of output text; may be a coroutine function in the async flavour.
OutputCallback = Callable[[str], Union[None, Awaitable[None]]]


class RunOptions(TypedDict, total=False):
    envs: dict[str, str]
    cwd: str
    #: The OS user inside the sandbox (default: the template's).
    user: str
    #: Kills the command after this long; 0 = no limit. Default 60 000 in the foreground, none in the background.
    timeout_ms: int
    on_stdout: OutputCallback
    on_stderr: OutputCallback
    #: Data written to stdin (foreground runs): text, or bytes sent exactly as they are.
    stdin: Union[str, bytes]


@dataclass(frozen=True)
class CommandResult:
    exit_code: int
    stdout: str
    stderr: str
    #: How the command ended when not by itself ("signal: killed", a timeout…).
    error: Optional[str] = None


class _OutputText:
    """One output stream's text from the exec route: as sent, or decoded from base64 across lines (a character may span two)."""

    def __init__(self, base64_wire: bool) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace") if base64_wire else None

    def push(self, data: str) -> str:
        return self._decoder.decode(base64.b64decode(data)) if self._decoder else data

    def end(self) -> str:
        return self._decoder.decode(b"", final=True) if self._decoder else ""


def _checked(result: CommandResult) -> CommandResult:
    if result.exit_code != 0:
        raise CommandExitError(result)
    return result


class AsyncCommandHandle(ProcessHandle):
    """A command running in the background; ``stdout``/``stderr`` grow as it writes."""

    def __init__(self, envd: EnvdClient, started: StartedProcess, output: dict[str, str]) -> None:
        super().__init__(envd, started)
        self._output = output

    @property
    def stdout(self) -> str:
        return self._output["stdout"]

    @property
    def stderr(self) -> str:
        return self._output["stderr"]

    async def wait(self) -> CommandResult:
        """Waits for the end; raises CommandExitError on a non-zero exit code."""
        end = await asyncio.shield(self._ended)
        return _checked(CommandResult(end.exit_code, self.stdout, self.stderr, end.error))

    async def send_stdin(self, data: str | bytes) -> None:
        await self._calls.send_input("stdin", data)

    async def close_stdin(self) -> None:
        await self._calls.close_stdin()


class AsyncCommands:
    def __init__(self, api: ApiClient, envd: EnvdClient, sandbox_id: str) -> None:
        self._api = api
        self._envd = envd
        self._sandbox_id = sandbox_id

    @overload
    async def run(self, cmd: str | list[str], *, background: Literal[True], **opts: Unpack[RunOptions]) -> AsyncCommandHandle: ...

    @overload
    async def run(self, cmd: str | list[str], *, background: Literal[False] = False, **opts: Unpack[RunOptions]) -> CommandResult: ...

    async def run(self, cmd: str | list[str], *, background: bool = False, **opts: Unpack[RunOptions]) -> Union[CommandResult, AsyncCommandHandle]:
        """Runs ``cmd`` with ``/bin/sh -c`` (or an argv list). In the foreground (default) it returns
        the result and raises CommandExitError on a non-zero exit; ``timeout_ms`` (default 60 000,
        0 = none) kills it. ``background=True`` returns a handle at once (no timeout by default).

        Example::

            out = await sbx.commands.run("echo hi")
            h = await sbx.commands.run("sleep 100", background=True); await h.kill()
        """
        callbacks = {"stdout": opts.get("on_stdout"), "stderr": opts.get("on_stderr")}
        if background:
            return await self._background(cmd, opts, callbacks)
        body: dict[str, Any] = {"cmd": cmd, "timeoutMs": opts.get("timeout_ms", 60_000)}
        stdin = opts.get("stdin")
        # Bytes go as base64, which then carries the output too: it is decoded to text here.
        base64_wire = isinstance(stdin, bytes)
        if base64_wire:
            body["encoding"] = "base64"
        extra = {"env": opts.get("envs"), "cwd": opts.get("cwd"), "user": opts.get("user"),
                 "stdin": base64.b64encode(stdin).decode() if isinstance(stdin, bytes) else stdin}
        body.update({k: v for k, v in extra.items() if v is not None})
        path = sandbox_path(self._sandbox_id, "/exec")
        text = {k: _OutputText(base64_wire) for k in ("stdout", "stderr")}
        if callbacks["stdout"] is None and callbacks["stderr"] is None:
            r = ExecResult.from_json(await self._api.json("POST", path, json_body=body, timeout_ms=0))
            whole = {k: text[k].push(getattr(r, k)) + text[k].end() for k in ("stdout", "stderr")}
            return _checked(CommandResult(r.exit_code, whole["stdout"], whole["stderr"], r.status))
        out = {"stdout": "", "stderr": ""}

        async def emit(kind: str, data: str) -> None:
            if data:
                out[kind] += data
                await call_back(callbacks[kind], data)

        async for event in self._api.ndjson("POST", path, json_body=body):
            kind = event["type"]
            if kind == "end":
                for k in ("stdout", "stderr"):
                    await emit(k, text[k].end())
                return _checked(CommandResult(event["exitCode"], out["stdout"], out["stderr"], event.get("status")))
            await emit(kind, text[kind].push(event["data"]))
        raise no_stream("the exec stream")

    async def _background(self, cmd: str | list[str], opts: RunOptions, callbacks: dict[str, Optional[OutputCallback]]) -> AsyncCommandHandle:
        argv = ["/bin/sh", "-c", cmd] if isinstance(cmd, str) else cmd
        process: dict[str, Any] = {"cmd": argv[0], "args": argv[1:], "envs": opts.get("envs") or {}}
        if opts.get("cwd"):
            process["cwd"] = opts["cwd"]
        output = {"stdout": "", "stderr": ""}
        decoders = {k: codecs.getincrementaldecoder("utf-8")("replace") for k in ("stdout", "stderr")}

        async def on_data(kind: OutputKind, data: bytes) -> None:
            if kind == "pty":
                return
            text = decoders[kind].decode(data)
            output[kind] += text
            await call_back(callbacks[kind], text)

        started = await start_process(self._envd, {"process": process, "stdin": True}, on_data, user=opts.get("user"), timeout_ms=opts.get("timeout_ms") or 0)
        return AsyncCommandHandle(self._envd, started, output)
