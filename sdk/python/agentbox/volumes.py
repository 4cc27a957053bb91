"""Volumes of the caller's tenant (docs/volumes.md), as src/sdk/volumes.ts: named directories with a
size limit that outlive sandboxes; ``AsyncSandbox.create(volumes=[{"name": …, "path": …}])`` mounts them.

Example::

    await AsyncVolumes.create("data", size_mib=1024)
    sbx = await AsyncSandbox.create(volumes=[{"name": "data", "path": "/mnt/data"}])
    await sbx.kill()
    await AsyncVolumes.delete("data")   # refused (ConflictError) while a sandbox mounts it
"""
from __future__ import annotations

import urllib.parse
from typing import Any, Optional, TypedDict, Unpack

from ._config import ConnectionOptions
from ._http import call_once
from .models import Volume


class VolumeMount(TypedDict):
    """A volume of the tenant mounted read-write at an absolute ``path`` inside the sandbox."""
    name: str
    path: str


def _path(volume: str) -> str:
    return "/v1/volumes/" + urllib.parse.quote(volume, safe="")


class AsyncVolumes:
    @staticmethod
    async def create(name: str, *, size_mib: Optional[int] = None, **opts: Unpack[ConnectionOptions]) -> Volume:
        """An empty volume; ``size_mib`` defaults to the policy's disk size, and a full volume is ENOSPC inside."""
        body: dict[str, Any] = {"name": name}
        if size_mib is not None:
            body["sizeMiB"] = size_mib
        return Volume.from_json(await call_once(opts, "POST", "/v1/volumes", json_body=body))

    @staticmethod
    async def get(volume: str, **opts: Unpack[ConnectionOptions]) -> Volume:
        """By id or name."""
        return Volume.from_json(await call_once(opts, "GET", _path(volume)))

    @staticmethod
    async def list(**opts: Unpack[ConnectionOptions]) -> list[Volume]:
        return [Volume.from_json(v) for v in (await call_once(opts, "GET", "/v1/volumes"))["volumes"]]

    @staticmethod
    async def delete(volume: str, **opts: Unpack[ConnectionOptions]) -> None:
        """Deletes the volume and its files."""
        await call_once(opts, "DELETE", _path(volume))
