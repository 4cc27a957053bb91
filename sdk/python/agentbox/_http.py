"""The raw HTTP client of the native API (src/api/native-routes.ts) over ``httpx``: requests, typed
errors, NDJSON streams. Everything above it (sandboxes, commands, files, templates, pools) builds
on these few calls, as the TypeScript SDK does on src/sdk/api-client.ts."""
from __future__ import annotations

import json
from contextlib import asynccontextmanager
from typing import IO, Any, AsyncGenerator, AsyncIterable, AsyncIterator, Callable, Iterable, Mapping, Optional, TypeVar, Union

import httpx

from ._config import Connection, ConnectionOptions, resolve_connection
from .errors import AgentboxSdkError, TimeoutError, UnavailableError, error_from_body

T = TypeVar("T")
Query = Mapping[str, Union[str, int, None]]
#: A raw request body: bytes, text, or an async stream of bytes (JSON goes as ``json_body``).
Content = Union[str, bytes, AsyncIterator[bytes]]
#: What uploads take: text, bytes, a binary file object, or an (async) iterable of byte chunks.
Body = Union[str, bytes, IO[bytes], Iterable[bytes], AsyncIterable[bytes]]

_CHUNK = 64 * 1024


async def _chunks(data: Union[IO[bytes], Iterable[bytes]]) -> AsyncIterator[bytes]:
    """httpx's async client streams only async iterables: a file or a plain iterable is read here."""
    if hasattr(data, "read"):
        while chunk := data.read(_CHUNK):
            yield chunk
    else:
        for chunk in data:
            yield chunk


def body_content(data: Body) -> Content:
    """An upload as httpx's async client sends it; files and iterables are streamed, not read whole."""
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, AsyncIterable):
        return data.__aiter__()
    return _chunks(data)


class ApiClient:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._http = httpx.AsyncClient(base_url=conn.api_url, timeout=None)

    async def aclose(self) -> None:
        await self._http.aclose()

    def timeout_s(self, timeout_ms: Optional[int]) -> Optional[float]:
        ms = self.conn.request_timeout_ms if timeout_ms is None else timeout_ms
        return ms / 1000 if ms > 0 else None

    def build(self, method: str, path: str, *, json_body: Any = None, content: Optional[Content] = None,
               query: Optional[Query] = None, headers: Optional[Mapping[str, str]] = None, timeout_ms: Optional[int] = None) -> httpx.Request:
        params = {k: v for k, v in (query or {}).items() if v is not None}
        h = dict(headers or {})
        if "X-API-Key" not in h:  # guest calls carry the key there, Authorization is the guest user's
            h["Authorization"] = f"Bearer {self.conn.api_key}"
        if content is not None:
            h.setdefault("Content-Type", "application/octet-stream")
        return self._http.build_request(method, path, params=params, headers=h, json=json_body, content=content,
                                        timeout=self.timeout_s(timeout_ms))

    async def send(self, req: httpx.Request, stream: bool, to_error: Callable[[int, Optional[dict[str, Any]]], AgentboxSdkError] = error_from_body) -> httpx.Response:
        """Sends a built request; a non-2xx answer's JSON body becomes ``to_error``'s typed error."""
        try:
            res = await self._http.send(req, stream=stream)
        except httpx.TimeoutException as err:
            raise TimeoutError("deadline_exceeded", f"{req.method} {req.url.path} took too long: raise request_timeout_ms") from err
        except httpx.TransportError as err:
            raise UnavailableError("unavailable", f"cannot reach the agentbox server at {self.conn.api_url}: {err} (is `agentbox up` running?)") from err
        if res.is_success:
            return res
        text = (await res.aread()).decode("utf-8", "replace")
        await res.aclose()
        raise to_error(res.status_code, _parse_error(text))

    async def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """Sends a request and reads the whole answer; non-2xx answers become typed errors."""
        return await self.send(self.build(method, path, **kw), stream=False)

    async def json(self, method: str, path: str, **kw: Any) -> Any:
        res = await self.request(method, path, **kw)
        return None if res.status_code == 204 else res.json()

    @asynccontextmanager
    async def stream(self, method: str, path: str, **kw: Any) -> AsyncIterator[httpx.Response]:
        """An answer whose body is read as it arrives (no request timeout)."""
        res = await self.send(self.build(method, path, timeout_ms=0, **kw), stream=True)
        try:
            yield res
        finally:
            await res.aclose()

    async def ndjson(self, method: str, path: str, **kw: Any) -> AsyncGenerator[dict[str, Any], None]:
        """The lines of an ``application/x-ndjson`` answer, parsed; an ``error`` line is raised."""
        async with self.stream(method, path, headers={"Accept": "application/x-ndjson"}, **kw) as res:
            async for line in guarded(res, res.aiter_lines()):
                if not line.strip():
                    continue
                event = json.loads(line)
                if event.get("type") == "error":
                    raise error_from_body(0, event)
                yield event


async def call_once(opts: ConnectionOptions, method: str, path: str, **kw: Any) -> Any:
    """One JSON call on a client of its own, for the calls that belong to no sandbox (templates, pools, volumes)."""
    api = ApiClient(resolve_connection(**opts))
    try:
        return await api.json(method, path, **kw)
    finally:
        await api.aclose()


async def guarded(res: httpx.Response, parts: AsyncIterator[T]) -> AsyncGenerator[T, None]:
    """The parts of an answer's body; a connection that breaks midway is an UnavailableError, as one that cannot open."""
    try:
        async for part in parts:
            yield part
    except httpx.TransportError as err:
        raise UnavailableError("unavailable", f"the answer to {res.request.method} {res.request.url.path} broke off: {err!r}") from err


def _parse_error(text: str) -> Optional[dict[str, Any]]:
    try:
        parsed = json.loads(text)
        return parsed if isinstance(parsed, dict) else {"message": text}
    except ValueError:
        return {"message": text} if text else None


def sandbox_path(sandbox_id: str, rest: str = "") -> str:
    return f"/v1/sandboxes/{sandbox_id}{rest}"


def no_stream(what: str) -> AgentboxSdkError:
    return UnavailableError("unavailable", f"{what} ended early (the sandbox may have been paused or killed)")
