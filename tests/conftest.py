from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator
from urllib.parse import urlsplit

import pytest
import requests

from pipeline import i18n, wechat

if TYPE_CHECKING:
    from tests.forge_fake import ForgeFake
    from tests.support import Account

# Where a test that forgets to give a sandbox sends its WeChat calls: a loopback port nothing listens
# on (9, discard), so the call fails at once with a network error instead of reaching WeChat.
STUB_API_BASE = "http://127.0.0.1:9/cgi-bin/"
PRODUCTION_API_BASE = wechat.DEFAULT_API_BASE  # what real runs use, read before any test patches it
# Credentials, forge settings and service addresses: none may leak in from the machine running the
# tests (a developer's shell, a CI job). Tests that need one set it themselves (see `fake`).
ISOLATED_PREFIXES = ("WECHAT_", "GITHUB_", "GITEA_", "GZH_")
KEPT = frozenset({"GZH_LOG_DIR", "GZH_CHROMIUM"})  # the per-test crash-log folder; where the browser is
_SEND = requests.adapters.HTTPAdapter.send


@pytest.fixture(autouse=True)
def chinese_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests assert the Chinese messages users see unless they ask for English."""
    for name in ("GZH_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    i18n.set_language(None)


@pytest.fixture(autouse=True)
def no_stray_crash_logs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GZH_LOG_DIR", str(tmp_path_factory.mktemp("logs")))


@pytest.fixture(autouse=True)
def isolated_from_real_services(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test can reach the real WeChat or forge, even if it forgets to point gzh at a sandbox or fake.

    Clears every WECHAT_*, GITHUB_*, GITEA_* and GZH_* variable (WECHAT_APPID, WECHAT_SECRET,
    WECHAT_API_BASE, GITHUB_TOKEN, GITHUB_REPOSITORY, GZH_FORGE_TOKEN, GZH_BOT_TOKEN, GZH_LEDGER_REMOTE …)
    except those in KEPT; tests/isolation_test.py checks every name pipeline/ reads is covered. Points
    the default WeChat API base at STUB_API_BASE; and refuses any HTTP request made through `requests`
    to a host other than loopback, which also covers the forge's built-in https://api.github.com.
    Autouse fixtures run before the ones a test asks for, so `fake` and the tests' own setenv win.
    """
    for name in list(os.environ):
        if name.startswith(ISOLATED_PREFIXES) and name not in KEPT:
            monkeypatch.delenv(name)
    for module_name, module in list(sys.modules.items()):  # the constant and every module-level copy of it
        if module_name.split(".")[0] == "pipeline" and hasattr(module, "DEFAULT_API_BASE"):
            monkeypatch.setattr(module, "DEFAULT_API_BASE", STUB_API_BASE)
    monkeypatch.setattr(wechat.Credentials.__init__, "__defaults__", (STUB_API_BASE,))  # the dataclass default
    monkeypatch.setattr(wechat.Credentials, "api_base", STUB_API_BASE)
    monkeypatch.setattr(wechat.Credentials.__dataclass_fields__["api_base"], "default", STUB_API_BASE)
    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", _loopback_only)


def _loopback_only(adapter: requests.adapters.HTTPAdapter, request: requests.PreparedRequest,
                   *args: Any, **kwargs: Any) -> requests.Response:
    host = urlsplit(request.url or "").hostname or ""
    if not _loopback(host):
        raise requests.ConnectionError(f"tests may not reach {host} (tests/conftest.py): use the sandbox or a forge fake",
                                       request=request)
    return _SEND(adapter, request, *args, **kwargs)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


@pytest.fixture(params=["github", "gitea"])
def fake(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator["ForgeFake"]:
    """A forge fake of each flavour, with the job environment pointing at it."""
    from tests.forge_fake import ForgeFake

    forge = ForgeFake(request.param).start()
    for key, value in forge.environment().items():
        monkeypatch.setenv(key, value)
    yield forge
    forge.stop()


@pytest.fixture
def ops(fake: "ForgeFake", tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple["Account", "ForgeFake"]]:
    """For Articles 7, 8 and 9 (patrol, inbox, emergency): an account on the WeChat sandbox and a
    forge fake of each flavour, run by the administrator sun-hao."""
    from tests.support import Account

    account = Account(tmp_path)
    monkeypatch.setenv("GZH_ACTOR", "sun-hao")
    yield account, fake
    account.close()


os.environ.setdefault("GIT_CONFIG_NOSYSTEM", "1")
