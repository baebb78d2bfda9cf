from __future__ import annotations

import ast
import subprocess
import sys
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


COMMANDS_DIR = Path(main_module.__file__).parent / "commands"


def _imported(tree: ast.AST, package: str) -> list[str]:
    """Every module an import statement names, lazy ones inside functions and relative ones included."""
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + [node.module or ""]
                            ) if node.level else node.module or ""
            names += [f"{base.rstrip('.')}.{alias.name}" for alias in node.names]  # `from pipeline import commands`
    return names


def test_no_command_module_imports_another() -> None:
    """What two verbs share lives in a stage module below them (policy, selection, connect, publish.run, cli)."""
    offenders = []
    for file in sorted(COMMANDS_DIR.glob("*.py")):
        for name in _imported(ast.parse(file.read_text("utf-8")), "pipeline.commands"):
            if name == "pipeline.commands" or name.startswith("pipeline.commands."):
                offenders.append(f"{file.name}: {name}")
    assert offenders == []


def test_every_command_module_is_in_the_table_and_declares_its_arguments() -> None:
    modules = {file.stem for file in COMMANDS_DIR.glob("*.py")} - {"__init__"}
    assert sorted(entry.module for entry in main_module.COMMANDS.values()) == sorted(modules)
    for name in main_module.COMMANDS:
        command = main_module.command(name)
        assert callable(command.add_arguments) and callable(command.run), name
        entry_points = [attr for attr in vars(command) if attr.endswith("_command") and callable(getattr(command, attr))]
        assert entry_points, f"{name}: the typed entry point is named *_command"


def test_main_has_no_branch_per_command() -> None:
    source = Path(main_module.__file__).read_text("utf-8")
    assert not [name for name in main_module.COMMANDS if f'== "{name}"' in source]


def test_only_the_chosen_command_module_is_imported() -> None:
    script = ("import sys\nfrom pipeline.main import main\nmain(sys.argv[1:])\n"
              "print(sorted(m for m in sys.modules if m.startswith('pipeline.commands.')))")
    for argv, expected in ((["--help"], "[]"), (["codeowners", "--help"], "['pipeline.commands.codeowners']"),
                           (["inbox", "reply", "--help"], "['pipeline.commands.inbox']")):
        result = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True, text=True, check=True)
        assert result.stdout.strip().splitlines()[-1] == expected, argv


def test_a_broken_command_module_is_an_internal_error_not_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(name: str) -> None:
        raise ImportError("cannot import name 'x'")

    monkeypatch.setattr(main_module, "command", broken)
    monkeypatch.setenv("GZH_LOG_DIR", str(tmp_path))
    assert main(["status"]) == 3
    assert "gzh 内部错误" in capsys.readouterr().err
