"""How the blocking flavour runs the asyncio core: one event loop on a daemon thread for the whole
process, and each blocking call submits its coroutine there and waits. One implementation serves
both flavours (the async classes are the SDK; the blocking ones only forward), and background
work (a command's output, a watch, a PTY) keeps flowing between calls because that loop never
stops. Callbacks given to the blocking flavour run on that thread."""
from __future__ import annotations

import asyncio
import functools
import threading
from typing import Any, AsyncIterator, Awaitable, Callable, Concatenate, Coroutine, Iterator, Optional, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")

_loop: Optional[asyncio.AbstractEventLoop] = None
_lock = threading.Lock()


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None:
            _loop = asyncio.new_event_loop()
            threading.Thread(target=_loop.run_forever, name="agentbox-sdk", daemon=True).start()
        return _loop


def run(awaitable: Awaitable[R]) -> R:
    """Runs a coroutine on the SDK's loop and returns its result; Ctrl-C cancels it there too."""
    async def call() -> R:
        return await awaitable
    future = asyncio.run_coroutine_threadsafe(call(), _background_loop())
    try:
        return future.result()
    except BaseException:
        future.cancel()
        raise


def iterate(items: AsyncIterator[R]) -> Iterator[R]:
    """An async iterator consumed one item per blocking call."""
    try:
        while True:
            try:
                yield run(anext(items))
            except StopAsyncIteration:
                return
    finally:
        aclose = getattr(items, "aclose", None)
        if aclose is not None:
            run(aclose())


def blocking_wrapped(fn: Callable[Concatenate[Any, P], Coroutine[Any, Any, R]], wrap: Callable[[R], T]) -> Callable[Concatenate[Any, P], T]:
    """A method of a blocking class made from the async method it forwards to (on ``self._async``),
    its result wrapped in its blocking class."""
    def method(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return wrap(run(fn(self._async, *args, **kwargs)))
    functools.update_wrapper(method, fn)
    return method


def _same(value: R) -> R:
    return value


def blocking(fn: Callable[Concatenate[Any, P], Coroutine[Any, Any, R]]) -> Callable[Concatenate[Any, P], R]:
    """``blocking_wrapped`` for a result that needs no wrapping (models, None, bytes…)."""
    return blocking_wrapped(fn, _same)


def blocking_static(fn: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, R]:
    """A static method of a blocking class made from the async static method it forwards to."""
    def method(*args: P.args, **kwargs: P.kwargs) -> R:
        return run(fn(*args, **kwargs))
    functools.update_wrapper(method, fn)
    return staticmethod(method)
