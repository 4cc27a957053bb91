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
from .events import EventsOptions, EventType
from .files import AsyncWatchHandle
from .models import ExecResult, FileEntry, Pool, SandboxEvent, SandboxUsage, Template, Volume, WatchChange
from .models import Sandbox as SandboxInfo
from .pty import AsyncPtyHandle
from .sandbox import AllEventsOptions, AsyncSandbox, SandboxCreateOptions, SandboxListOptions
from .sync import CommandHandle, Pools, PtyHandle, Sandbox, Templates, Volumes, WatchHandle
from .templates import AsyncPools, AsyncTemplates
from .volumes import AsyncVolumes, VolumeMount

__all__ = [
    "Sandbox", "AsyncSandbox", "SandboxInfo", "SandboxCreateOptions", "SandboxListOptions", "ConnectionOptions",
    "CommandHandle", "AsyncCommandHandle", "CommandResult", "RunOptions", "ProcessEnd",
    "PtyHandle", "AsyncPtyHandle", "WatchHandle", "AsyncWatchHandle",
    "Templates", "AsyncTemplates", "Pools", "AsyncPools", "Volumes", "AsyncVolumes", "VolumeMount",
    "AllEventsOptions", "EventsOptions", "EventType",
    "ExecResult", "FileEntry", "Pool", "SandboxEvent", "SandboxUsage", "Template", "Volume", "WatchChange",
    "AgentboxSdkError", "AuthenticationError", "CommandExitError", "ConflictError", "InvalidArgumentError", "NotFoundError",
    "NotSupportedError", "PermissionError", "RateLimitError", "SandboxEndedError", "TimeoutError", "UnavailableError",
]
