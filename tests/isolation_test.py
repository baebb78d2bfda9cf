"""No test reaches the real WeChat or forge: tests/conftest.py's `isolated_from_real_services`."""
from __future__ import annotations

import importlib
import os
import pkgutil
import re
import sys
import time

import pytest
import requests

import pipeline
from pipeline import wechat
from pipeline.wechat import Credentials, WeChat, WeChatError
from tests.conftest import ISOLATED_PREFIXES, KEPT, PRODUCTION_API_BASE, STUB_API_BASE
from tests.support import PROJECT

# Names pipeline/ mentions that the fixture leaves alone on purpose: the language and colour (set by
# `chinese_by_default`), where crash logs and the browser go, and what gzh writes for git's children.
# Every module imported now, while collecting, before any test runs: a module that copies the default
# WeChat base (`from pipeline.wechat import DEFAULT_API_BASE`) then holds the real one until the fixture patches it.
for _module in pkgutil.walk_packages(pipeline.__path__, "pipeline."):
    if not _module.name.endswith("__main__"):
        importlib.import_module(_module.name)

NOT_CREDENTIALS = {"NO_COLOR", "LC_ALL", "LC_MESSAGES", "XDG_CACHE_HOME", "GIT_TERMINAL_PROMPT", "GIT_CONFIG_COUNT",
                   "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0", *KEPT,
                   # set, not read: the identity and private index of the preview branch's commit (gitrefs.push_files)
                   "GIT_INDEX_FILE", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"}


def test_no_credential_or_forge_variable_reaches_a_test() -> None:
    leaked = [name for name in os.environ if name.startswith(ISOLATED_PREFIXES) and name not in KEPT]
    assert leaked == []


def test_every_variable_pipeline_reads_is_cleared_or_harmless() -> None:
    """A new variable gzh reads must be cleared by the fixture or listed above as harmless."""
    names = set()
    for file in (PROJECT / "pipeline").rglob("*.py"):
        text = file.read_text("utf-8")
        if "environ" in text or "getenv" in text:
            names.update(re.findall(r"\"([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)\"", text))
    assert {"WECHAT_SECRET", "GZH_FORGE_TOKEN", "GZH_LEDGER_REMOTE", "GZH_RECEIVED_COMMENTS"} <= names  # the scan works
    unhandled = sorted(name for name in names if not name.startswith(ISOLATED_PREFIXES) and name not in NOT_CREDENTIALS)
    assert unhandled == []


def test_the_default_wechat_base_is_the_stub_in_tests_and_wechat_itself_in_production() -> None:
    assert PRODUCTION_API_BASE == "https://api.weixin.qq.com/cgi-bin/"
    assert wechat.DEFAULT_API_BASE == STUB_API_BASE and Credentials("wx", "s").api_base == STUB_API_BASE
    copies = {name: module.DEFAULT_API_BASE for name, module in list(sys.modules.items())
              if name.split(".")[0] == "pipeline" and hasattr(module, "DEFAULT_API_BASE")}
    assert "pipeline.wechat" in copies and set(copies.values()) == {STUB_API_BASE}, copies  # every `from … import` copy too


def test_credentials_from_the_environment_default_to_the_stub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WECHAT_APPID", "wx1")
    monkeypatch.setenv("WECHAT_SECRET", "s")
    assert Credentials.from_environment().api_base == STUB_API_BASE


def test_a_wechat_call_without_a_sandbox_fails_fast_with_a_network_error(monkeypatch: pytest.MonkeyPatch) -> None:
    hosts: list[str] = []
    send = requests.adapters.HTTPAdapter.send  # the fixture's guard, which hands loopback calls on

    def recording(adapter: requests.adapters.HTTPAdapter, request: requests.PreparedRequest, *args, **kwargs):
        hosts.append(request.url or "")
        return send(adapter, request, *args, **kwargs)

    monkeypatch.setattr(requests.adapters.HTTPAdapter, "send", recording)
    began = time.monotonic()
    with pytest.raises(WeChatError, match="网络错误"):
        WeChat(Credentials("wx", "s"), timeout=5, sleep=lambda seconds: None).check_credentials()
    with pytest.raises(WeChatError, match="网络错误"):
        WeChat(Credentials("wx", "s"), timeout=5, sleep=lambda seconds: None).published(0)
    assert time.monotonic() - began < 5
    assert hosts and all(url.startswith(STUB_API_BASE) for url in hosts)


def test_a_forge_left_at_its_built_in_github_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.forge import ForgeError, from_environment

    monkeypatch.setenv("GITHUB_REPOSITORY", "union/gzh")
    monkeypatch.setenv("GZH_FORGE_TOKEN", "t0k3n")
    forge = from_environment()
    assert forge.api == "https://api.github.com"  # no constant to stub: the guard on `requests` refuses it
    began = time.monotonic()
    with pytest.raises(ForgeError):
        forge.pull_request(1)
    assert time.monotonic() - began < 1


def test_any_request_to_a_real_host_is_refused() -> None:
    with pytest.raises(requests.ConnectionError, match="tests may not reach api.weixin.qq.com"):
        requests.get(PRODUCTION_API_BASE + "stable_token", timeout=5)
