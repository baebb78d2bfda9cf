"""`gzh codeowners --write | --check`: keep CODEOWNERS in step with the policy."""
from __future__ import annotations

from pathlib import Path

from pipeline import codeowners, output
from pipeline.i18n import Text
from pipeline.policy import load_repository_policy

_WROTE = Text("已根据 gzh.yml 写入：{files}", "Written from gzh.yml: {files}")
_IN_SYNC = Text("CODEOWNERS 与 gzh.yml 一致。", "CODEOWNERS matches gzh.yml.")
_DRIFT = Text("{files} 与 gzh.yml 不一致（或缺失）。请运行 gzh codeowners --write 并提交结果",
              "{files} missing or out of step with gzh.yml; run gzh codeowners --write and commit")


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
