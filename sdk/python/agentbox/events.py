"""Lifecycle events (``GET /v1/events``, docs/events.md), as src/sdk/events.ts: the stored ones page
by page, and with ``follow`` the live Server-Sent Events stream after them, resumed from the last
``seq`` seen if the connection drops."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any, AsyncGenerator, Literal, Optional, TypedDict

from ._http import ApiClient, Query, guarded
from .models import SandboxEvent

EventType = Literal[
    "sandbox.lifecycle.created", "sandbox.lifecycle.updated", "sandbox.lifecycle.paused",
    "sandbox.lifecycle.resumed", "sandbox.lifecycle.killed",
]


class EventsOptions(TypedDict, total=False):
    types: list[EventType]
    #: Events at or after this time.
    since: datetime
    #: Events after this ``seq``.
    after: int
    #: Keep streaming new events until the caller stops iterating.
    follow: bool


#: The server's largest page (MAX_EVENT_PAGE in src/api/events.ts): a shorter page is the last.
_PAGE = 1000


async def sandbox_events(api: ApiClient, sandbox_id: Optional[str], o: EventsOptions) -> AsyncGenerator[SandboxEvent, None]:
    query: dict[str, Any] = {
        "sandboxId": sandbox_id, "types": ",".join(o["types"]) if o.get("types") else None,
        "since": o["since"].isoformat() if "since" in o else None, "after": o.get("after"),
    }
    if not o.get("follow"):
        while True:
            events = (await api.json("GET", "/v1/events", query={**query, "limit": _PAGE}))["events"]
            for e in events:
                yield SandboxEvent.from_json(e)
            if len(events) < _PAGE:
                return
            query["after"] = events[-1]["seq"]
    # The stream ends only when the server or the network drops it: then it resumes from `after`.
    while True:
        async for e in _sse(api, query):
            query["after"] = e.seq
            yield e


async def _sse(api: ApiClient, query: Query) -> AsyncGenerator[SandboxEvent, None]:
    """The events of one Server-Sent Events answer: each ``data:`` line up to a blank line is one event."""
    async with api.stream("GET", "/v1/events", query=query, headers={"Accept": "text/event-stream"}) as res:
        data: Optional[str] = None
        async for line in guarded(res, res.aiter_lines()):
            if line.startswith("data: "):
                data = line[len("data: "):]
            elif line == "" and data is not None:
                yield SandboxEvent.from_json(json.loads(data))
                data = None
