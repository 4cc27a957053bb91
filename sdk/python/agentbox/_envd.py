"""A small Connect client (JSON codec) for the guest daemon, reached through the server's port route
``/v1/sandboxes/{id}/ports/49983/…`` (the server adds the guest's token): background processes with
stdin, PTYs. It speaks what src/sdk/envd.ts speaks; the messages are spec/envd/process.proto's, in
proto3 JSON.

Why the framing is written here rather than taken from PyPI's ``connectrpc``: that library runs on
its own HTTP client (pyqwest) rather than httpx, keeps its envelope reader private, and, like
@connectrpc/connect (see src/sdk/envd.ts), reads an error on a stream by HTTP status alone, losing
the code agentbox's server writes for an unknown sandbox, a wrong key or a paused sandbox. The
Connect streaming envelope is 1 flag byte and a 4-byte big-endian length
(https://connectrpc.com/docs/protocol/#streaming-request), which this module alone reads.
"""
from __future__ import annotations

import base64
import json
import struct
from typing import Any, AsyncIterator, Optional

from ._http import ApiClient, guarded, no_stream, sandbox_path
from .errors import AgentboxSdkError, error_from_body

#: The daemon's port in every sandbox (src/api/envd-protocol.ts GUEST_PORT).
GUEST_PORT = 49983
#: The end-of-stream flag of a Connect envelope.
_END_STREAM = 0b10
#: The largest message the guest sends (src/envd/errors.ts GUEST_MAX_MESSAGE_BYTES is 32 MiB).
_MAX_MESSAGE_BYTES = 32 * 1024 * 1024

#: How a Connect code reads back as ours (src/api/envd-protocol.ts ERROR_CODE_OF_CONNECT).
ERROR_CODE_OF_CONNECT = {
    "invalid_argument": "invalid_argument",
    "not_found": "not_found",
    "already_exists": "already_exists",
    "failed_precondition": "conflict",
    "unauthenticated": "unauthenticated",
    "permission_denied": "permission_denied",
    "resource_exhausted": "resource_exhausted",
    "deadline_exceeded": "deadline_exceeded",
    "canceled": "deadline_exceeded",
    "unavailable": "unavailable",
    "unimplemented": "not_supported",
    "data_loss": "integrity_error",
}


def envd_error(status: int, body: Optional[dict[str, Any]]) -> AgentboxSdkError:
    """An error body from the guest (Connect code) or the server (our code), as a typed error."""
    body = body or {}
    code = body.get("code")
    return error_from_body(status, {**body, "code": ERROR_CODE_OF_CONNECT.get(str(code), code)})


def user_header(user: Optional[str]) -> dict[str, str]:
    """The OS user of one call: Basic auth with the user name and an empty password, as in envd."""
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:".encode()).decode()} if user else {}


class EnvdClient:
    def __init__(self, api: ApiClient, sandbox_id: str) -> None:
        self._api = api
        self._sandbox_id = sandbox_id

    def _path(self, method: str) -> str:
        return sandbox_path(self._sandbox_id, f"/ports/{GUEST_PORT}/{method}")

    def _headers(self, content_type: str, user: Optional[str]) -> dict[str, str]:
        # The API key goes as X-API-Key so Authorization stays free for the guest's user.
        return {"Content-Type": content_type, "Connect-Protocol-Version": "1", "X-API-Key": self._api.conn.api_key, **user_header(user)}

    async def unary(self, method: str, message: dict[str, Any], user: Optional[str] = None) -> dict[str, Any]:
        req = self._api.build("POST", self._path(method), content=json.dumps(message), headers=self._headers("application/json", user))
        res = await self._api.send(req, False, envd_error)
        return res.json() if res.content else {}

    async def stream(self, method: str, message: dict[str, Any], *, user: Optional[str] = None, timeout_ms: int = 0) -> AsyncIterator[dict[str, Any]]:
        """A server-streaming call: yields each message until the end-of-stream frame."""
        data = json.dumps(message).encode()
        headers = self._headers("application/connect+json", user)
        if timeout_ms:
            headers["Connect-Timeout-Ms"] = str(timeout_ms)
        req = self._api.build("POST", self._path(method), content=struct.pack(">BI", 0, len(data)) + data, headers=headers, timeout_ms=0)
        res = await self._api.send(req, True, envd_error)
        try:
            buf = bytearray()
            async for chunk in guarded(res, res.aiter_bytes()):
                buf.extend(chunk)
                while len(buf) >= 5:
                    flags, length = struct.unpack(">BI", buf[:5])
                    if length > _MAX_MESSAGE_BYTES:
                        raise AgentboxSdkError("internal", f"{method}: a message of {length} bytes is over the {_MAX_MESSAGE_BYTES}-byte limit")
                    if len(buf) < 5 + length:
                        break
                    frame = json.loads(bytes(buf[5:5 + length]) or b"{}")
                    del buf[:5 + length]
                    if flags & _END_STREAM:
                        error = frame.get("error")
                        if error:
                            raise envd_error(0, {"code": error.get("code"), "message": error.get("message", "")})
                        return
                    yield frame
        finally:
            await res.aclose()
        raise no_stream(f"the {method} stream")
