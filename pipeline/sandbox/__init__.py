"""A local WeChat Official Account API for tests, demos and rehearsals (`gzh sandbox serve`).

The real API cannot be reached from development machines, so this server answers the way the
documented one does: same endpoints, fields, limits, daily quotas, error codes and asynchronous
publish results, with faults on command. State lives in a folder, so it survives restarts.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from wechatpy.crypto import WeChatCrypto

from pipeline.errors import listening
from pipeline.sandbox import rehearsal
from pipeline.sandbox.server import SandboxServer
from pipeline.sandbox.state import SandboxState
from pipeline.wechat import Credentials

SANDBOX_APPID = "wx5a0dbox0c0ffee01"
SANDBOX_SECRET = "sandbox-secret-not-for-production"


class Sandbox:
    """The sandbox on a loopback port; a context manager for tests and `gzh demo`."""

    def __init__(self, folder: Path, port: int = 0, host: str = "127.0.0.1") -> None:
        self.state = SandboxState(folder, SANDBOX_APPID, SANDBOX_SECRET)
        self.server = listening(lambda: SandboxServer((host, port), self.state), host, port)
        self.state.base_url = self.url.rstrip("/")
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/"

    @property
    def credentials(self) -> Credentials:
        return Credentials(SANDBOX_APPID, SANDBOX_SECRET, self.url + "cgi-bin/")

    def start(self) -> "Sandbox":
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> "Sandbox":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def control(self, action: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """A rehearsal control over HTTP, as a separate process would send it."""
        return rehearsal.control(self.url, action, data or {})

    def push_message(self, url: str, token: str, content: str, *, openid: str = rehearsal.DEFAULT_OPENID, msg_id: int = 1,
                     aes_key: str = "") -> tuple[int, str]:
        """What WeChat does when a follower writes to the account: a signed (optionally encrypted) push."""
        crypto = WeChatCrypto(token, aes_key, SANDBOX_APPID) if aes_key else None
        return rehearsal.push_message(url, token, rehearsal.Message(content, openid, msg_id), crypto)

    def calls(self, endpoint: str | None = None) -> list[dict[str, Any]]:
        calls = self.control("calls")["calls"]
        return [call for call in calls if endpoint is None or call["endpoint"] == endpoint]
