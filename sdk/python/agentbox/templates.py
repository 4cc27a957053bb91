"""Templates and warm pools of the caller's tenant, over the native routes (src/api/native-routes.ts).

A pool is sized by ``size`` (that many idle) or by OpenSandbox's capacity (keep between buffer_min
and buffer_max idle, pool_min to pool_max members in total), as src/sdk/pools.ts.

Example::

    await AsyncTemplates.build({"name": "mine", "from": {"template": "base"}, "run": ["pip install x"]})
    await AsyncTemplates.upload("app", open("app.tar", "rb"), ref="app:v1")   # a `docker save` archive
    await AsyncPools.set("base", size=3)
"""
from __future__ import annotations

from typing import Any, Literal, Optional, Unpack

from ._config import ConnectionOptions
from ._http import Body, body_content, call_once
from .models import Pool, Template


class AsyncTemplates:
    @staticmethod
    async def list(**opts: Unpack[ConnectionOptions]) -> list[Template]:
        """Templates the caller may use: public ones and its tenant's own."""
        return [Template.from_json(t) for t in (await call_once(opts, "GET", "/v1/templates"))["templates"]]

    @staticmethod
    async def build(recipe: dict[str, Any], **opts: Unpack[ConnectionOptions]) -> Template:
        """Builds a template from a recipe, as in ``templates/*.yaml`` (``name``, ``from``, ``packages``,
        ``run``…); returns once it is built."""
        return Template.from_json(await call_once(opts, "POST", "/v1/templates", json_body=recipe, timeout_ms=0))


    @staticmethod
    async def upload(name: str, archive: Body, *, ref: Optional[str] = None, description: Optional[str] = None,
                     **opts: Unpack[ConnectionOptions]) -> Template:
        """Builds a template from an image: ``archive`` is a ``docker save`` tarball (a file object is
        streamed); ``ref`` picks an image in it. Returns once it is built."""
        return Template.from_json(await call_once(opts, "POST", f"/v1/templates/{name}/oci", content=body_content(archive),
                                              query={"ref": ref, "description": description}, timeout_ms=0))


class AsyncPools:
    @staticmethod
    async def set(template: str, *, size: Optional[int] = None, buffer_min: Optional[int] = None, buffer_max: Optional[int] = None,
                  pool_min: Optional[int] = None, pool_max: Optional[int] = None, runtime: Optional[Literal["gvisor", "runc"]] = None,
                  **opts: Unpack[ConnectionOptions]) -> Pool:
        """Sizes the pool by ``size`` or by all four capacity fields."""
        fields = {"size": size, "bufferMin": buffer_min, "bufferMax": buffer_max, "poolMin": pool_min, "poolMax": pool_max, "runtime": runtime}
        return Pool.from_json(await call_once(opts, "PUT", f"/v1/pools/{template}", json_body={k: v for k, v in fields.items() if v is not None}))

    @staticmethod
    async def get(template: str, **opts: Unpack[ConnectionOptions]) -> Pool:
        return Pool.from_json(await call_once(opts, "GET", f"/v1/pools/{template}"))

    @staticmethod
    async def list(**opts: Unpack[ConnectionOptions]) -> list[Pool]:
        return [Pool.from_json(p) for p in (await call_once(opts, "GET", "/v1/pools"))["pools"]]

    @staticmethod
    async def delete(template: str, **opts: Unpack[ConnectionOptions]) -> None:
        """Deletes the pool; its idle sandboxes go, claimed ones stay."""
        await call_once(opts, "DELETE", f"/v1/pools/{template}")
