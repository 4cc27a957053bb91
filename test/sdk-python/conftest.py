"""Fixtures of the Python SDK scenarios. python-sdk.test.ts runs them against a real server and
sets AGENTBOX_URL and AGENTBOX_API_KEY, the only configuration the SDK gets."""
from __future__ import annotations

import os
import threading
import time
from typing import Callable, Iterator

import pytest

from agentbox import Sandbox

#: The upper bound of every wait for an event; a wait polls or blocks on the event itself.
WAIT_S = 60.0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def sbx() -> Iterator[Sandbox]:
    sandbox = Sandbox.create(template="base", metadata={"suite": "python-sdk"})
    yield sandbox
    sandbox.kill()


def wait_until(what: str, check: Callable[[], bool], timeout_s: float = WAIT_S) -> None:
    """Waits for ``check()`` to hold; fails naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Collected:
    """Text or events delivered by callbacks on the SDK's thread, waited for by content."""

    def __init__(self) -> None:
        self.items: list = []
        self._cond = threading.Condition()

    def add(self, item: object) -> None:
        with self._cond:
            self.items.append(item)
            self._cond.notify_all()

    def wait_for(self, what: str, check: Callable[[list], bool]) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: check(self.items), WAIT_S):
                raise AssertionError(f"timed out waiting for {what}; got {self.items!r}")

    def text(self) -> str:
        return "".join(i.decode(errors="replace") if isinstance(i, bytes) else str(i) for i in self.items)


@pytest.fixture
def server_url() -> str:
    return os.environ["AGENTBOX_URL"]
