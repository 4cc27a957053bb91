"""The base of the generated models (models.py): built from the API's camelCase JSON, ignoring
fields a newer server adds, so an older SDK keeps working against it."""
from __future__ import annotations

import dataclasses
import re
import typing
from typing import Any, TypeVar

M = TypeVar("M", bound="Model")


def snake(name: str) -> str:
    """A JSON field's Python name: ``memoryMiB`` → ``memory_mib``, ``createdAt`` → ``created_at``."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name.replace("MiB", "Mib")).lower()


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    origin = typing.get_origin(hint)
    if origin is typing.Union and len(args) == 1:
        return _convert(args[0], value)
    if origin is list and args:
        return [_convert(args[0], v) for v in value]
    if isinstance(hint, type) and issubclass(hint, Model):
        return hint.from_json(value)
    return value


class Model:
    @classmethod
    def from_json(cls: type[M], data: dict[str, Any]) -> M:
        hints = typing.get_type_hints(cls)
        by_name = {snake(k): v for k, v in data.items()}
        kwargs = {f.name: _convert(hints[f.name], by_name.get(f.name)) for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**kwargs)
