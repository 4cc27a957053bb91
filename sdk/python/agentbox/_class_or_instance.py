"""One name for two calls, one on the class and one on an instance, as the TypeScript SDK's static
``Sandbox.events()`` (every sandbox's events) and ``sbx.events()`` (this sandbox's) share a name.
A Python method cannot be both a classmethod and an instance method, so the name is a descriptor."""
from __future__ import annotations

from typing import Callable, Generic, Optional, TypeVar, Union, overload

O = TypeVar("O")
C = TypeVar("C")
I = TypeVar("I")  # noqa: E741 - the instance's call, beside O (owner) and C (class)


class class_or_instance(Generic[O, C, I]):  # noqa: N801 - used like @classmethod
    def __init__(self, on_class: C, on_instance: Callable[[O], I]) -> None:
        self._on_class = on_class
        self._on_instance = on_instance

    @overload
    def __get__(self, obj: None, owner: type[O]) -> C: ...

    @overload
    def __get__(self, obj: O, owner: type[O]) -> I: ...

    def __get__(self, obj: Optional[O], owner: type[O]) -> Union[C, I]:
        return self._on_class if obj is None else self._on_instance(obj)
