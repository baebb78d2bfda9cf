from __future__ import annotations

import os
from typing import TYPE_CHECKING, Iterator

import pytest

from pipeline import i18n

if TYPE_CHECKING:
    from tests.forge_fake import ForgeFake


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


@pytest.fixture(params=["github", "gitea"])
def fake(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator["ForgeFake"]:
    """A forge fake of each flavour, with the job environment pointing at it."""
    from tests.forge_fake import ForgeFake

    forge = ForgeFake(request.param).start()
    for key, value in forge.environment().items():
        monkeypatch.setenv(key, value)
    yield forge
    forge.stop()


os.environ.setdefault("GIT_CONFIG_NOSYSTEM", "1")
