"""agentbox: self-hosted, isolated, stateful sandboxes for AI agents.

Example::

    from agentbox import Sandbox            # or AsyncSandbox for asyncio
    sbx = Sandbox.create(template="base")   # AGENTBOX_URL / AGENTBOX_API_KEY, or the local `agentbox up`
    print(sbx.commands.run("echo hi").stdout)
    sbx.kill()
"""
from ._config import ConnectionOptions
from ._process import ProcessEnd
from .commands import AsyncCommandHandle, CommandResult, RunOptions
from .errors import (
    AgentboxSdkError, AuthenticationError, CommandExitError, ConflictError, InvalidArgumentError, NotFoundError,
    NotSupportedError, PermissionError, RateLimitError, SandboxEndedError, TimeoutError, UnavailableError,
)
from .files import AsyncWatchHandle
from .models import ExecResult, FileEntry, Pool, SandboxUsage, Template, WatchChange
from .models import Sandbox as SandboxInfo
from .pty import AsyncPtyHandle
from .sandbox import AsyncSandbox, SandboxCreateOptions, SandboxListOptions
from .sync import CommandHandle, Pools, PtyHandle, Sandbox, Templates, WatchHandle
from .templates import AsyncPools, AsyncTemplates

__all__ = [
    "Sandbox", "AsyncSandbox", "SandboxInfo", "SandboxCreateOptions", "SandboxListOptions", "ConnectionOptions",
    "CommandHandle", "AsyncCommandHandle", "CommandResult", "RunOptions", "ProcessEnd",
    "PtyHandle", "AsyncPtyHandle", "WatchHandle", "AsyncWatchHandle",
    "Templates", "AsyncTemplates", "Pools", "AsyncPools",
    "ExecResult", "FileEntry", "Pool", "SandboxUsage", "Template", "WatchChange",
    "AgentboxSdkError", "AuthenticationError", "CommandExitError", "ConflictError", "InvalidArgumentError", "NotFoundError",
    "NotSupportedError", "PermissionError", "RateLimitError", "SandboxEndedError", "TimeoutError", "UnavailableError",
]
