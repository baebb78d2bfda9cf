"""The workflow files gzh ships: their digests (for `gzh doctor`) and the Gitea copies.

GitHub reads `.github/workflows/`; Gitea reads `.gitea/workflows/` and, when that folder exists,
ignores `.github/workflows/` altogether. gzh uses that: Gitea gets only the secret-free pull request
check (everything holding a secret runs in the trusted service there, docs/security.md), generated
from the GitHub file so the two never drift. The one difference: Gitea before 1.23 supports only
`actions/upload-artifact@v3`, which GitHub now refuses for any job that merely references it.
"""
from __future__ import annotations

GITHUB_DIR = ".github/workflows"
GITEA_DIR = ".gitea/workflows"
GITEA_WORKFLOWS = ("pr-check.yml",)
_HEADER = "# 由 .github/workflows/{name} 生成（python -m tests.regen workflows），请不要直接修改。\n"


def gitea_copy(name: str, github_text: str) -> str:
    text = github_text.replace("actions/upload-artifact@v4", "actions/upload-artifact@v3")
    lines = [line for line in text.splitlines(keepends=True) if "Gitea 读取 .gitea/workflows" not in line]
    return _HEADER.format(name=name) + "".join(lines)
