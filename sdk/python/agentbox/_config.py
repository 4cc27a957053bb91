"""Where the SDK finds the server and the key, as the CLI does (src/sdk/config.ts): arguments, then
``AGENTBOX_URL`` / ``AGENTBOX_API_KEY``, then the local server of ``agentbox up`` (127.0.0.1:7420 and
``$AGENTBOX_HOME/admin.key``, AGENTBOX_HOME defaulting to ~/.agentbox)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, TypedDict

from .errors import AuthenticationError

DEFAULT_URL = "http://127.0.0.1:7420"


@dataclass(frozen=True)
class Connection:
    api_url: str
    api_key: str
    #: Base domain for host routing (``<port>-<id>.<domain>``), used by ``get_host``.
    domain: Optional[str] = None
    #: Per-request timeout of control calls, ms (0 = none).
    request_timeout_ms: int = 60_000


class ConnectionOptions(TypedDict, total=False):
    """Keyword arguments every entry point takes; each falls back as the module docstring says."""
    #: Base URL of the server, e.g. http://127.0.0.1:7420
    api_url: str
    api_key: str
    domain: str
    request_timeout_ms: int


def agentbox_home(env: Mapping[str, str] = os.environ) -> Path:
    return Path(env.get("AGENTBOX_HOME") or Path.home() / ".agentbox")


def resolve_connection(
    api_url: Optional[str] = None,
    api_key: Optional[str] = None,
    domain: Optional[str] = None,
    request_timeout_ms: int = 60_000,
    env: Mapping[str, str] = os.environ,
) -> Connection:
    url = (api_url or env.get("AGENTBOX_URL") or DEFAULT_URL).rstrip("/")
    key = api_key or env.get("AGENTBOX_API_KEY")
    key_file = agentbox_home(env) / "admin.key"
    if not key and key_file.exists():
        key = key_file.read_text().strip()
    if not key:
        raise AuthenticationError("unauthenticated", f"no API key: pass api_key, set AGENTBOX_API_KEY, or run `agentbox up` (it writes {key_file})")
    return Connection(url, key, domain or env.get("AGENTBOX_DOMAIN") or None, request_timeout_ms)
