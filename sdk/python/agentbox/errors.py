"""The SDK's error family, the same classes as the TypeScript SDK (src/sdk/errors.ts): one base
class, one subclass per server error code (src/api/errors.ts), chosen in one table. Catch
``AgentboxSdkError`` to catch everything the SDK raises.

Example::

    try:
        Sandbox.connect(sandbox_id)
    except NotFoundError:
        ...
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping, Optional


class AgentboxSdkError(Exception):
    """``code`` is the server's machine-readable code (src/api/errors.ts) or a client-side one."""

    def __init__(self, code: str, message: str, *, status: Optional[int] = None, details: Optional[dict[str, Any]] = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details


class AuthenticationError(AgentboxSdkError):
    """The key is missing, unknown or revoked."""


class PermissionError(AgentboxSdkError):  # noqa: A001 - the TypeScript SDK's name
    """The key may not do this (admin routes)."""


class NotFoundError(AgentboxSdkError):
    """A sandbox, template, file, key or pool does not exist (or belongs to another tenant)."""


class SandboxEndedError(NotFoundError):
    """The sandbox expired (its timeout ran out) or was killed; ``reason`` is ``'expired'`` or
    ``'killed'`` and ``ended_at`` when. A ``NotFoundError`` too, so code that catches that keeps working."""

    @property
    def reason(self) -> Optional[str]:
        reason = (self.details or {}).get("reason")
        return reason if isinstance(reason, str) else None

    @property
    def ended_at(self) -> Optional[datetime]:
        ended = (self.details or {}).get("endedAt")
        return datetime.fromisoformat(ended) if isinstance(ended, str) else None


class InvalidArgumentError(AgentboxSdkError):
    """The input was wrong; the message says what to change."""


class ConflictError(AgentboxSdkError):
    """The resource is in a state that does not allow this (e.g. exec on a paused sandbox)."""


class RateLimitError(AgentboxSdkError):
    """A limit was hit; retry later."""


class TimeoutError(AgentboxSdkError):  # noqa: A001 - the TypeScript SDK's name
    """A deadline passed (a command's ``timeout_ms``, a request's timeout)."""


class UnavailableError(AgentboxSdkError):
    """The server or the sandbox is not ready; retry soon."""


class NotSupportedError(AgentboxSdkError):
    """The host or runtime cannot do this."""


class CommandExitError(AgentboxSdkError):
    """A command ended with a non-zero exit code; ``result`` holds its output."""

    def __init__(self, result: Any) -> None:
        error = f": {result.error}" if result.error else ""
        super().__init__("command_exit", f"command exited with code {result.exit_code}{error}")
        self.result = result

    @property
    def exit_code(self) -> int:
        return int(self.result.exit_code)

    @property
    def stdout(self) -> str:
        return str(self.result.stdout)

    @property
    def stderr(self) -> str:
        return str(self.result.stderr)


_BY_CODE: dict[str, type[AgentboxSdkError]] = {
    "unauthenticated": AuthenticationError,
    "permission_denied": PermissionError,
    "not_found": NotFoundError,
    "sandbox_ended": SandboxEndedError,
    "invalid_argument": InvalidArgumentError,
    "conflict": ConflictError,
    "already_exists": ConflictError,
    "resource_exhausted": RateLimitError,
    "quota_exceeded": RateLimitError,
    "deadline_exceeded": TimeoutError,
    "unavailable": UnavailableError,
    "not_supported": NotSupportedError,
}


def error_from_body(status: int, body: Optional[Mapping[str, Any]]) -> AgentboxSdkError:
    """The one place a wire error (``{code, message, details}``) becomes a typed error."""
    body = body or {}
    code, message, details = body.get("code"), body.get("message"), body.get("details")
    code = code if isinstance(code, str) else f"http_{status}"
    message = message if isinstance(message, str) else f"the server answered {status}"
    details = details if isinstance(details, dict) else None
    return _BY_CODE.get(code, AgentboxSdkError)(code, message, status=status, details=details)
