"""GitHub App mode: installation tokens minted from the App's private key on each use.

An installation token lives one hour, so storing one as a secret (as docs/security.md once said)
cannot work; the trusted service keeps the private key and asks GitHub for a fresh token before each
job: a JWT (RS256, issued by the App id, valid ten minutes, backdated a minute for clock drift) buys an
installation token from `POST /app/installations/{id}/access_tokens`. Statuses and comments then come
from the App, so branch protection can pin the required `gzh/approval` status to it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import jwt
import requests

from pipeline.errors import GzhError
from pipeline.i18n import Text
from pipeline.redact import redact

_KEY_UNREADABLE = Text("无法读取 GitHub App 私钥 {path}：{error}", "Cannot read the GitHub App private key {path}: {error}")
_KEY_INVALID = Text("GitHub App 私钥 {path} 不是有效的 PEM 格式 RSA 私钥：请从 App 设置页重新生成并下载",
                    "The GitHub App private key {path} is not a valid PEM RSA key; generate and download a new one")
_REFUSED = Text("GitHub 拒绝为 App {app_id} 的安装 {installation} 签发令牌（{status}）：{message}。请检查 App 编号、安装编号和私钥",
                "GitHub refused an installation token for App {app_id}, installation {installation} ({status}): {message}")
_UNREACHABLE = Text("无法连接 GitHub 签发 App 令牌：{error}", "Cannot reach GitHub for an App token: {error}")


@dataclass(frozen=True)
class GitHubApp:
    app_id: int
    installation_id: int
    private_key: str    # PEM text, read from a file only the service's user can read
    key_file: str = ""  # where it came from, for messages

    @classmethod
    def from_key_file(cls, app_id: int, installation_id: int, path: Path) -> "GitHubApp":
        try:
            key = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise GzhError(_KEY_UNREADABLE(path=path, error=type(error).__name__)) from None
        return cls(app_id, installation_id, key, str(path))

    def jwt(self, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time()) - 60
        try:
            return jwt.encode({"iat": issued, "exp": issued + 600, "iss": str(self.app_id)}, self.private_key,
                              algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError):
            raise GzhError(_KEY_INVALID(path=self.key_file)) from None

    def installation_token(self, api: str) -> str:
        return str(self._call("POST", f"{api.rstrip('/')}/app/installations/{self.installation_id}/access_tokens", 201)["token"])

    def login(self, api: str) -> str:
        """The name the App acts under ("<slug>[bot]"): how the gate recognises its own labels and comments."""
        app = self._call("GET", f"{api.rstrip('/')}/app", 200)
        return f"{app['slug']}[bot]"

    def _call(self, method: str, url: str, expected: int) -> dict:
        headers = {"Authorization": f"Bearer {self.jwt()}", "Accept": "application/vnd.github+json",
                   "X-GitHub-Api-Version": "2022-11-28"}
        try:
            response = requests.request(method, url, headers=headers, timeout=30)
        except requests.RequestException as error:
            raise GzhError(_UNREACHABLE(error=type(error).__name__)) from None
        if response.status_code != expected:
            raise GzhError(_REFUSED(app_id=self.app_id, installation=self.installation_id,
                                    status=response.status_code, message=redact(response.text[:200])))
        return response.json()
