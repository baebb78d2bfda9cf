"""`gzh codeowners --write | --check`: keep the files made from the policy in step with it (both
CODEOWNERS and the issue form 提交稿件)."""
from __future__ import annotations

import argparse
from pathlib import Path

from pipeline import codeowners, output
from pipeline.i18n import Text
from pipeline.policy import load_repository_policy

_WRITE = Text("写入 CODEOWNERS 文件和提交稿件表单", "write the CODEOWNERS files and the submission form")
_CHECK = Text("检查 CODEOWNERS 和提交稿件表单是否与 gzh.yml 一致（不一致时退出码 1）", "check they are in step (exit 1 if not)")
_WROTE = Text("已根据 gzh.yml 写入：{files}", "Written from gzh.yml: {files}")
_IN_SYNC = Text("CODEOWNERS 和提交稿件表单与 gzh.yml 一致。", "CODEOWNERS and the submission form match gzh.yml.")
_DRIFT = Text("{files} 与 gzh.yml 不一致（或缺失）。请运行 gzh codeowners --write 并提交结果",
              "{files} missing or out of step with gzh.yml; run gzh codeowners --write and commit")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true", help=_WRITE())
    mode.add_argument("--check", action="store_true", help=_CHECK())


def run(args: argparse.Namespace, root: Path) -> int:
    return codeowners_command(root, write=args.write)


def codeowners_command(root: Path, *, write: bool) -> int:
    policy = load_repository_policy(root)
    if write:
        for path, text in codeowners.expected(policy).items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text, "utf-8")
        output.write(_WROTE(files="、".join(codeowners.expected(policy))) + "\n")
        return 0
    stale = codeowners.drift(policy, root)
    if stale:
        output.error(_DRIFT(files="、".join(stale)))
        return 1
    output.write(_IN_SYNC() + "\n")
    return 0
