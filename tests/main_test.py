from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import main as main_module
from pipeline.main import main
from tests.support import make_root, write_post


def test_internal_error_exits_3_and_writes_the_traceback_to_a_log(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("boom secret-token-123 GET /cgi-bin/x?access_token=tok456")

    monkeypatch.setattr(main_module, "_dispatch", broken)
    monkeypatch.setenv("GZH_LOG_DIR", str(tmp_path))
    monkeypatch.setenv("WECHAT_SECRET", "secret-token-123")
    assert main(["check"]) == 3
    err = capsys.readouterr().err
    assert "gzh 内部错误" in err and "Traceback" not in err and "secret-token-123" not in err
    log = next(tmp_path.glob("gzh-crash-*.log")).read_text("utf-8")
    assert "RuntimeError: boom *** GET /cgi-bin/x?access_token=***" in log and "tok456" not in log


def test_interrupt_exits_130(monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: object, **kwargs: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(main_module, "_dispatch", interrupted)
    assert main(["check"]) == 130


def test_usage_error_from_argparse_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--format", "xml"]) == 2
    assert "gzh check：参数有误：" in capsys.readouterr().err
    assert main(["--version"]) == 0


def test_lang_flag_switches_messages_to_english(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_root(tmp_path)
    write_post(root, "扬州市总公会。\n")
    assert main(["--lang", "en", "--root", str(root), "check"]) == 1
    out = capsys.readouterr().out
    assert "Serious misstatement" in out and "Checked 1 post(s)" in out


def test_root_is_found_by_walking_up_to_the_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    root = make_root(tmp_path)
    write_post(root)
    monkeypatch.chdir(root / "content")
    assert main(["check"]) == 0
    assert "检查了 1 篇文章" in capsys.readouterr().out


def test_crash_logs_are_private_and_never_follow_a_planted_link(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import stat

    def broken(*args: object, **kwargs: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(main_module, "_dispatch", broken)
    monkeypatch.delenv("GZH_LOG_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert main(["check"]) == 3
    log = next((tmp_path / "cache" / "gzh").glob("gzh-crash-*.log"))
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700
    assert str(log) in capsys.readouterr().err

    victim = tmp_path / "victim.txt"
    victim.write_text("keep", "utf-8")
    monkeypatch.setattr(main_module, "_crash_log_name", lambda: "gzh-crash-planted.log")
    os.symlink(victim, tmp_path / "cache" / "gzh" / "gzh-crash-planted.log")
    assert main(["check"]) == 3
    assert victim.read_text("utf-8") == "keep" and "无法写入日志" in capsys.readouterr().err


def test_user_error_messages_are_masked(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.errors import GzhError

    def failing(*args: object, **kwargs: object) -> int:
        raise GzhError('接口错误：{"access_token": "TOKEN-abc-123"}，联系人 １３９１２３４５６７８')

    monkeypatch.setattr(main_module, "_dispatch", failing)
    assert main(["check"]) == 1
    err = capsys.readouterr().err
    assert "TOKEN-abc-123" not in err and "１２３４" not in err and "139****5678" in err
