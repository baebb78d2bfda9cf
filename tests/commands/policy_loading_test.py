"""Every command that reads gzh.yml goes through the one loader, so each rejects what it rejects."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.main import main
from tests.support import POLICY_TEXT, line_of, make_root, write_post

MISSPELLED = POLICY_TEXT.replace("    address: warning", "    adress: warning")
WHERE = f"gzh.yml:{line_of(MISSPELLED, '    adress: warning')}:5: checks.severity.adress："
MESSAGE = "checks.severity 里的规则“adress”不存在"
POST = "content/office/2026-11-28-meeting"

# Every verb (and sub-verb) that loads the policy; the policy is read before anything else
# (credentials, the forge, a port), so none of them needs more than the repository.
LOADING = [
    ["check"],
    ["check", "--list-rules"],
    ["check", "--changed"],
    ["new", "office"],
    ["render", POST],
    ["preview"],
    ["serve", "--port", "0"],
    ["publish"],
    ["publish", "--dry-run"],
    ["demo", "--port", "0"],
    ["preview-send", POST, "--to", "reviewer"],
    ["codeowners", "--check"],
    ["codeowners", "--write"],
    ["patrol"],
    ["inbox"],
    ["inbox", "reply", "1", "--text", "您好"],
    ["inbox", "done", "1", "--note", "电话答复"],
    ["callback", "serve", "--port", "0"],
    ["emergency", "takedown", POST, "--reason", "测试"],
    ["emergency", "close", "20261128-01", "--summary", "测试"],
]


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("WECHAT_APPID", "WECHAT_SECRET", "WECHAT_API_BASE", "WECHAT_CALLBACK_TOKEN", "GITHUB_REPOSITORY",
                 "GZH_FORGE_TOKEN", "GITHUB_TOKEN", "GITEA_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    root = make_root(tmp_path, MISSPELLED)
    write_post(root)
    return root


@pytest.mark.parametrize("argv", LOADING, ids=" ".join)
def test_a_misspelled_rule_id_is_rejected_by_every_command(root: Path, argv: list[str],
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--root", str(root), *argv]) == 2
    err = capsys.readouterr().err
    assert WHERE + MESSAGE in err and "Traceback" not in err
    assert not (root / "CODEOWNERS").exists()  # `codeowners --write` wrote nothing


def test_doctor_lists_it_as_the_policy_item(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--root", str(root), "doctor"]) == 1
    out = capsys.readouterr().out
    assert f"❌ 策略文件 gzh.yml 有效：{WHERE}{MESSAGE}" in out


def test_the_gate_rejects_it_in_the_base_policy() -> None:
    from pipeline import gate  # the gate reads the base commit's text, through the same parser

    with pytest.raises(ConfigError) as caught:
        gate.parse_policy(MISSPELLED, "abc1234:gzh.yml")
    assert f"abc1234:{WHERE}{MESSAGE}" in str(caught.value)


def test_a_missing_theme_is_rejected_by_render_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_root(tmp_path, POLICY_TEXT.replace("theme: official", "theme: offical"))
    write_post(root)
    for argv in (["render", POST], ["codeowners", "--check"], ["check"]):
        assert main(["--root", str(root), *argv]) == 2
        assert "render.theme：" in capsys.readouterr().err
