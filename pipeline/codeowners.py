"""CODEOWNERS generated from the policy, in each forge's own syntax.

GitHub reads `.github/CODEOWNERS` first (gitignore-style patterns, the last matching line wins,
any one owner satisfies it); Gitea reads the root `CODEOWNERS` first (Go regular expressions,
every matching line applies, and recent Gitea requires one approval per matching line). Neither
can express the tiers, so the files only route review requests and add a layer of defence; the
gate's status `gzh/approval` is what decides.
"""
from __future__ import annotations

import re
from pathlib import Path

from pipeline.approval import glob_regex
from pipeline.policy import Policy

GITHUB_FILE = ".github/CODEOWNERS"
GITEA_FILE = "CODEOWNERS"
_HEADER = (
    "# 由 gzh codeowners --write 根据 gzh.yml 生成，请勿手工修改；gzh codeowners --check 检查是否一致。\n"
    "# 平台据此自动请求审核；逐级审批由 gzh gate 的提交状态 gzh/approval 把关（docs/approval.md）。\n"
)


def _owners(users: tuple[str, ...] | list[str]) -> str:
    return " ".join(f"@{user}" for user in dict.fromkeys(users))


def _role_members(policy: Policy, roles: tuple[str, ...]) -> list[str]:
    return [member for role in roles for member in policy.members(role)]


def github(policy: Policy) -> str:
    lines = [_HEADER, "# 其他改动", f"* {_owners(_role_members(policy, policy.other_roles))}", "", "# 各部门的文章：部门负责人（兼保密初审）"]
    lines += [f"/content/{dept.folder}/ {_owners(dept.heads)}" for dept in policy.departments]
    lines += ["", "# 受保护的文件"]
    for rule in policy.protected:
        owners = _owners(_role_members(policy, rule.roles))
        lines += [f"/{pattern} {owners}" for pattern in rule.patterns]
    return "\n".join(lines) + "\n"


def _regex(pattern: str) -> str:
    return f"^{glob_regex(pattern)}$"


def gitea(policy: Policy) -> str:
    lines = [_HEADER, "# 各部门的文章：每一行都要有一位负责人批准（新版 Gitea 强制）"]
    for dept in policy.departments:
        folder = re.escape(dept.folder)
        lines.append(f"^content/{folder}/.* {_owners(dept.heads)}")
        lines.append(f"^content/{folder}/.* @{dept.leader_in_charge}")
    for role in ("administrator", "publicity_head", "principal_leader"):
        lines.append(f"^content/.*/.* {_owners(policy.members(role))}")
    lines += ["", "# 受保护的文件"]
    for rule in policy.protected:
        for pattern in rule.patterns:
            lines += [f"{_regex(pattern)} {_owners(policy.members(role))}" for role in rule.roles]
    return "\n".join(lines) + "\n"


def expected(policy: Policy) -> dict[str, str]:
    """Every file made from the policy: both CODEOWNERS, and the issue form 提交稿件 (its departments
    and categories are the policy's), so one command writes them and the pull request check keeps them."""
    from pipeline.submission import FORM_FILE, form_yaml

    return {GITHUB_FILE: github(policy), GITEA_FILE: gitea(policy), FORM_FILE: form_yaml(policy)}


def drift(policy: Policy, root: Path) -> list[str]:
    """The CODEOWNERS files that are missing or differ from what the policy says."""
    return [path for path, text in expected(policy).items()
            if not (root / path).is_file() or (root / path).read_text("utf-8") != text]
