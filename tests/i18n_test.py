from __future__ import annotations

import pytest

from pipeline import i18n
from pipeline.i18n import Text

GREETING = Text("你好，{name}", "Hello, {name}")


@pytest.mark.parametrize(("variable", "value", "expected"), [
    ("LANG", "en_US.UTF-8", "Hello, 王"),
    ("LANG", "zh_CN.UTF-8", "你好，王"),
    ("LANG", "C.UTF-8", "你好，王"),
    ("GZH_LANG", "en", "Hello, 王"),
])
def test_language_follows_the_environment(monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str) -> None:
    monkeypatch.setenv(variable, value)
    assert GREETING(name="王") == expected


def test_explicit_language_beats_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    i18n.set_language("zh")
    assert GREETING(name="王") == "你好，王"
    i18n.set_language(None)
    assert GREETING(name="王") == "Hello, 王"


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ValueError):
        i18n.set_language("fr")
