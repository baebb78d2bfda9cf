"""`gzh doctor`: check a repository's setup and print a checklist in Chinese, with the fix for each failure.

    策略文件有效 · CODEOWNERS 一致 · 工作流齐全且未被改动 · CI 密钥齐全 · 微信凭据可用 · 平台令牌可读审核、可写状态
    · 平台令牌可写问题和标签 · 可信服务（健康检查、就绪、签名） · 群机器人通知的密钥齐全 · 每个机器人的服务可以连通
    （--send-test：每个通知群发一条测试消息）

A check that cannot run here is skipped with its reason, and a skipped check is no pass: the summary
counts them and never says 全部正常 while one is left. A warning (a robot's service out of reach) does
not fail the run, since the work goes on without the groups, but is no pass either. Every fix that
cites docs/setup.md names one of its headings (tests/commands/doctor_test.py reads them).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

import requests

from pipeline import codeowners, forge as forge_module, notify, output, webhooks
from pipeline.errors import GzhError
from pipeline.forge import Forge, ForgeError
from pipeline.forge.gitea import MINIMUM_VERSION, Gitea
from pipeline.gitrefs import open_repo
from pipeline.i18n import Text
from pipeline.policy import Channel, Policy, load_repository_policy
from pipeline.wechat import Credentials, WeChat

WORKFLOWS_DIR = ".github/workflows"
DOCTOR_CONTEXT = "gzh/doctor"
# The repository roles whose token may open issues with assignees (GitHub drops them below push) and create
# labels (Gitea's secrecy label): GitHub's `permissions` has admin, maintain, push; Gitea's admin, push.
ISSUE_WRITERS = ("admin", "maintain", "push")
# The robots' probe: a message type neither WeCom nor DingTalk has (WeCom answers 40008, DingTalk 400105
# or 40035), so nothing is posted; the errcodes that mean the key, the token or the signature was refused.
PROBE_TYPE = "gzh-doctor-probe"
KEY_REFUSALS = frozenset({93000, 300001, 400101, 400102, 400106, 310000})

_TITLE = Text("gzh 配置检查", "gzh setup check")
_OK, _FAIL, _SKIP, _WARN = "✅", "❌", "－", "⚠️"
_FIX = Text("    修复：{fix}", "    fix: {fix}")
_HINT = Text("    请确认：{hint}", "    make sure: {hint}")
_SKIPPED_LINE = Text("跳过（{reason}）", "skipped ({reason})")
_SUMMARY = Text("{failed} 项需要处理。", "{failed} item(s) need attention.")
_SUMMARY_SKIPPED = Text("{failed} 项需要处理；另有 {skipped} 项跳过、没有检查（{reasons}）。",
                        "{failed} item(s) need attention; {skipped} more skipped, not checked ({reasons}).")
_NOT_ALL_CHECKED = Text("没有发现问题，但有 {skipped} 项跳过、没有检查，不能算全部正常（{reasons}）。",
                        "No problem found, but {skipped} item(s) were skipped, not checked, so not all good ({reasons}).")
_ALL_GOOD = Text("全部正常。", "All good.")
_WARNED = Text("没有错误，但有 {warned} 项警告（⚠️），不能算全部正常，请按说明处理。",
               "No error, but {warned} warning(s) (⚠️): not all good, see the notes.")
_WARNED_TOO = Text("另有 {warned} 项警告（⚠️）。", " And {warned} warning(s) (⚠️).")
_REASONS_JOINED = Text("；", "; ")
_POLICY_INVALID = Text("gzh.yml 无效，见第一项", "gzh.yml is invalid, see the first item")

_POLICY = Text("策略文件 gzh.yml 有效", "gzh.yml is valid")
_POLICY_FIX = Text("按上面的提示修改 gzh.yml（字段说明见 docs/policy.md）", "fix gzh.yml as shown (docs/policy.md)")
_OWNERS = Text("CODEOWNERS 与 gzh.yml 一致", "CODEOWNERS matches gzh.yml")
_OWNERS_FIX = Text("运行 gzh codeowners --write，提交生成的 .github/CODEOWNERS 和 CODEOWNERS", "run gzh codeowners --write and commit")
_FLOWS = Text("工作流齐全，且与 gzh 发布的版本一致", "workflows are present and unmodified")
_FLOWS_MISSING = Text("缺少 {files}", "missing {files}")
_FLOWS_CHANGED = Text("{files} 与 gzh 发布的版本不同（可能被改动过）", "{files} differ from what gzh ships")
_FLOWS_FIX = Text("从 gzh 项目复制 .github/workflows/ 下的文件，不要修改；需要调整时先在 gzh 项目中修改并发布新版本",
                  "copy .github/workflows/ from gzh unchanged")
_SECRETS = Text("CI 中已配置微信密钥 WECHAT_APPID、WECHAT_SECRET", "WECHAT_APPID and WECHAT_SECRET are set in CI")
_SECRETS_FIX = Text("在仓库设置的环境 wechat 中添加密钥 WECHAT_APPID 和 WECHAT_SECRET（docs/setup.md 第 1.2 节）",
                    "add WECHAT_APPID and WECHAT_SECRET to the wechat environment (docs/setup.md)")
_NOT_CI = Text("不在 CI 中", "not in CI")
_WECHAT = Text("微信凭据可用（获取 access_token）", "the WeChat credentials work (token call)")
_NO_CREDENTIALS = Text("没有设置 WECHAT_APPID / WECHAT_SECRET", "no WECHAT_APPID / WECHAT_SECRET")
_WECHAT_FIX = Text("按上面的原因处理；IP 白名单见 docs/setup.md 第 4 节", "see the reason above; IP whitelist: docs/setup.md")
_FORGE = Text("平台令牌可以读取审核、写提交状态", "the forge token can read reviews and write statuses")
_NO_FORGE = Text("没有设置 GITHUB_REPOSITORY / 令牌", "no GITHUB_REPOSITORY / token")
_PRIVATE = Text("仓库是私有的（读者的留言和后台消息会写进问题）", "the repository is private (followers' comments and messages go into issues)")
_PUBLIC = Text("{repository} 是公开仓库：读者的留言和私下发给公众号的后台消息（个人信息已遮盖）会写进问题，所有人都能看到",
               "{repository} is public: followers' comments and messages (masked) go into issues anyone can read")
_PUBLIC_FIX = Text("在仓库设置中把仓库改为私有（GitHub：Settings → General → Danger Zone → Change visibility；Gitea：仓库设置 → 可见性）",
                   "make the repository private in its settings")
_FORGE_FIX = Text("检查工作流的 permissions（pull-requests: write、statuses: write）或令牌 GZH_GATE_TOKEN 的权限（docs/setup.md 第 2 节）",
                  "check the workflow permissions or the GZH_GATE_TOKEN scopes (docs/setup.md)")
_NOT_FOUND = Text("平台接口 {api} 上找不到仓库 {repository}（404）", "the forge API {api} has no repository {repository} (404)")
_API_ADDRESS = Text("接口地址 GZH_FORGE_API（现在是 {api}；GitHub 为 https://api.github.com，Gitea 为 https://主机/api/v1）",
                   "GZH_FORGE_API (now {api}; https://api.github.com, or https://host/api/v1 for Gitea)")
_NOT_FOUND_FIX = Text("404 说明仓库名或接口地址不对，或者令牌看不到这个私有仓库，而不是缺少某项权限：核对 GITHUB_REPOSITORY"
                      "（现在是 {repository}，应为“组织/仓库名”）和{address}；私有仓库还要确认令牌所属的账号是仓库成员",
                      "a 404 means a wrong repository name or API address, or a private repository the token cannot see, "
                      "not a missing permission: check GITHUB_REPOSITORY (now {repository}, owner/name) and {address}, "
                      "and that the token's account is a member of a private repository")
_UNREACHABLE_FIX = Text("核对{address}以及本机到平台的网络", "check {address} and the network to the forge")
_ISSUES = Text("平台令牌可以写问题和标签（巡查、留言、应急处置需要）", "the forge token can write issues and labels (patrol, inbox, emergency)")
_NO_REPOSITORY = Text("读不到仓库，见上一项", "the repository cannot be read, see the item above")
_NO_PERMISSIONS = Text("平台没有告诉这个令牌的权限（GitHub Actions 的 GITHUB_TOKEN 和 GitHub App 的令牌都是这样），无法验证",
                       "the forge does not tell this token's permissions (so for GitHub Actions' GITHUB_TOKEN and App tokens)")
_NO_PERMISSIONS_HINT = Text("patrol.yml、inbox.yml、emergency.yml 声明了 issues: write（gzh 发布的版本已声明）；"
                            "可信服务用的 GitHub App 有 Issues 读写权限（docs/setup.md 第 7.3 节）",
                            "patrol.yml, inbox.yml and emergency.yml declare issues: write (as shipped); the service's "
                            "GitHub App has Issues read and write (docs/setup.md)")
_READ_ONLY = Text("令牌所属的账号对 {repository} 没有写权限（平台答复的权限：{roles}），开不了带负责人的问题，也建不了标签",
                  "the token's account cannot write to {repository} (the forge says: {roles}); no issues with assignees, no labels")
_ISSUES_FIX = Text("给令牌所属的账号仓库的写权限：GitHub 的令牌 GZH_GATE_TOKEN 或服务账号要有 Issues 读写（docs/setup.md 第 2 节），"
                   "Gitea 的服务账号要有仓库的写权限（docs/setup.md 第 7.2 节）",
                   "give the token's account write access: Issues read and write on GitHub, repository write on Gitea (docs/setup.md)")
_OLD_GITEA = Text("Gitea 版本 {found} 太旧，gzh 需要 1.21 或更新的版本", "Gitea {found} is too old; gzh needs 1.21 or later")
_OLD_GITEA_FIX = Text("升级 Gitea 到 1.21 或更新（1.22.3 起按提交查找拉取请求的接口才可靠，见 docs/setup.md 第 3 节）",
                      "upgrade Gitea to 1.21 or later (1.22.3+ for a reliable pull-request lookup)")
_SERVICE = Text("可信服务可以访问，并按密钥验证投递签名", "the trusted service answers and verifies webhook signatures")
_NO_SERVICE = Text("没有设置可信服务的地址 GZH_BOT_URL", "no GZH_BOT_URL")
_SERVICE_DOWN = Text("{url} 无法访问或未就绪：{error}", "{url} is unreachable or not ready: {error}")
_SERVICE_SILENT = Text("健康检查 {url}/healthz 没有应答（{error}）：服务没有运行，或反向代理没有转给它",
                       "the health check {url}/healthz got no answer ({error}): the service is down or the proxy does not reach it")
_SERVICE_SILENT_FIX = Text("在服务主机上运行 systemctl status gzh-bot（容器：docker ps）确认服务在运行；再核对反向代理把 GZH_BOT_URL "
                           "转到配置中 listen 的地址（docs/setup.md 第 7 节）",
                           "check systemctl status gzh-bot (or docker ps) on the host, then that the proxy forwards GZH_BOT_URL "
                           "to the configured listen address (docs/setup.md)")
_SERVICE_UNREADY = Text("服务在运行（健康检查正常），但还没有就绪（{url}/readyz 答复 {status}）：仓库还没有克隆好、执行任务的线程停了，或正在停止",
                        "the service runs (health check fine) but is not ready ({url}/readyz answered {status}): no clone yet, "
                        "the worker stopped, or shutting down")
_SERVICE_UNREADY_FIX = Text("查看服务的日志（journalctl -u gzh-bot）中的错误：多半是克隆地址 clone_url 或令牌 GZH_BOT_TOKEN 不对；"
                            "改好后重启服务（docs/setup.md 第 7 节）",
                            "read the service log (journalctl -u gzh-bot): usually clone_url or GZH_BOT_TOKEN; restart after fixing (docs/setup.md)")
_GITEA_NEEDS_SERVICE = Text("Gitea 上审批状态、发布和巡查都由可信服务执行：在能访问它的机器上设置 GZH_BOT_URL 再运行 gzh doctor（docs/setup.md 第 7 节）",
                            "on Gitea the trusted service runs the gate, publishing and patrol: set GZH_BOT_URL and run gzh doctor again (docs/setup.md)")
_SERVICE_SECRET = Text("用 GZH_WEBHOOK_SECRET 签名的测试投递被拒绝（{status}）：两边的密钥不一致",
                       "a test delivery signed with GZH_WEBHOOK_SECRET was refused ({status}): the secrets differ")
_SERVICE_OPEN = Text("未签名的投递没有被拒绝（{status}）：服务没有验证签名", "an unsigned delivery was not refused ({status})")
_SERVICE_FIX = Text("按 docs/setup.md 第 7 节检查服务是否在运行、反向代理地址，以及平台 Webhook 与服务的 GZH_WEBHOOK_SECRET 是否相同",
                    "see docs/setup.md section 7: the service, the proxy address, and the same GZH_WEBHOOK_SECRET on both sides")
_FORGE_STATUS = Text("gzh doctor 检查令牌权限", "gzh doctor token check")
_SEND_TEST = Text("给每个通知群发一条测试消息，报告机器人的回答", "send a test message to every notification channel")
_NOTIFY = Text("群机器人通知的密钥已在环境中设置（不显示密钥）", "the group robots' keys are set (values not shown)")
_NOTIFY_LOCAL = Text("不在 CI 中且没有设置 GZH_NOTIFY_ 变量；加 --send-test 并设置变量可在本机测试",
                     "not in CI and no GZH_NOTIFY_ variables")
_NOTIFY_FIX = Text("在仓库设置的环境 wechat 中添加这些密钥，并在 patrol.yml、inbox.yml、emergency.yml 的 env 中传入（docs/notifications.md）",
                   "add these secrets to the wechat environment and pass them in the workflows' env (docs/notifications.md)")
_REACH = Text("通知群“{channel}”的机器人服务可以连通（不发消息）", "channel '{channel}': the robot's service can be reached (nothing sent)")
_REACHED = Text("{service}答复了探测（错误码 {errcode}）", "{service} answered the probe (errcode {errcode})")
_UNREACHABLE = Text("连不上{service}（{error}）", "cannot reach {service} ({error})")
_UNREACHABLE_ROBOT_FIX = Text("运行 gzh 的机器（CI 运行器或可信服务的主机）要能用 HTTPS 访问 {host}：检查防火墙的出站规则、代理（HTTPS_PROXY）"
                              "和 DNS；连通之前，这个群收不到任何通知（巡查、留言、应急处置照常运行，问题照常开在平台上）",
                              "the machine running gzh (CI runner or the service's host) must reach {host} over HTTPS: check outbound "
                              "firewall rules, the proxy (HTTPS_PROXY) and DNS; until then the group gets no notice (the work goes on)")
_NOT_ROBOT = Text("{host} 的答复不是{service}机器人接口的（HTTP {status}）：可能被代理或防火墙拦截了",
                  "{host} did not answer as the {service} robot API does (HTTP {status}): a proxy or firewall in between")
_KEY_REFUSED = Text("{service}拒绝了机器人的密钥（错误码 {errcode}）", "{service} refused the robot's key (errcode {errcode})")
_TEST_SENT = Text("通知群“{channel}”收到测试消息", "channel '{channel}' got the test message")
_TEST_FIX = Text("按上面的错误码处理：核对机器人是否还在群里、密钥和加签密钥是否与机器人页面一致（docs/notifications.md）",
                 "see the errcode above: is the robot still in the group, do the key and the signing secret match (docs/notifications.md)")
_TEST_TITLE = Text("gzh 通知测试", "gzh notification test")
_TEST_LINE = Text("这是 gzh doctor --send-test 发出的测试消息：{account}的公众号通知会发到这个群（通知群“{channel}”）",
                  "A test from gzh doctor --send-test: {account}'s notices come to this group (channel '{channel}')")


@dataclass(frozen=True)
class Item:
    name: str
    state: str          # ok, fail, skip
    detail: str = ""
    fix: str = ""       # a failure's fix; a skip's hint of what to make sure of instead


def workflow_digests(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.glob("*.yml"))}


def shipped_digests() -> dict[str, str]:
    return json.loads(resources.files("pipeline").joinpath("data", "workflows.json").read_text("utf-8"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--send-test", action="store_true", help=_SEND_TEST())


def run(args: argparse.Namespace, root: Path) -> int:
    return doctor_command(root, send_test=args.send_test)


def doctor_command(root: Path, *, send_test: bool = False) -> int:
    checks: list[Callable[[Path], Item]] = [_policy, _codeowners, _workflows, _secrets, _wechat]
    items = [check(root) for check in checks] + _forge(root) + [_service(root)] + _notifications(root, send_test)
    lines = [_TITLE(), *(line for item in items for line in _lines(item)), _summary(items)]
    output.write("\n".join(lines) + "\n")
    return 1 if any(item.state == "fail" for item in items) else 0


def _lines(item: Item) -> list[str]:
    mark = {"ok": _OK, "fail": _FAIL, "skip": _SKIP, "warn": _WARN}[item.state]
    detail = _SKIPPED_LINE(reason=item.detail) if item.state == "skip" else item.detail
    lines = [f"{mark} {item.name}" + (f"：{detail}" if detail else "")]
    if item.fix:
        lines.append((_FIX(fix=item.fix) if item.state in ("fail", "warn") else _HINT(hint=item.fix)))
    return lines


def _summary(items: list[Item]) -> str:
    """How many failed, and how many were skipped and why: a skipped check is not a pass, nor is a warning."""
    failed = sum(1 for item in items if item.state == "fail")
    warned = sum(1 for item in items if item.state == "warn")
    skipped = [item for item in items if item.state == "skip"]
    reasons = _REASONS_JOINED().join(dict.fromkeys(item.detail for item in skipped))  # one reason, said once
    if skipped:
        summary = (_SUMMARY_SKIPPED if failed else _NOT_ALL_CHECKED)(failed=failed, skipped=len(skipped), reasons=reasons)
    elif failed:
        summary = _SUMMARY(failed=failed)
    else:
        return _WARNED(warned=warned) if warned else _ALL_GOOD()
    return summary + (_WARNED_TOO(warned=warned) if warned else "")


def _policy(root: Path) -> Item:
    try:
        load_repository_policy(root)
    except GzhError as error:
        return Item(_POLICY(), "fail", str(error).splitlines()[-1].strip(), _POLICY_FIX())
    return Item(_POLICY(), "ok")


def _codeowners(root: Path) -> Item:
    try:
        stale = codeowners.drift(load_repository_policy(root), root)
    except GzhError:
        return Item(_OWNERS(), "skip", _POLICY_INVALID())
    return Item(_OWNERS(), "fail", "、".join(stale), _OWNERS_FIX()) if stale else Item(_OWNERS(), "ok")


def _workflows(root: Path) -> Item:
    expected, present = shipped_digests(), workflow_digests(root / WORKFLOWS_DIR)
    missing = sorted(set(expected) - set(present))
    changed = sorted(name for name in expected if name in present and present[name] != expected[name])
    if missing:
        return Item(_FLOWS(), "fail", _FLOWS_MISSING(files="、".join(missing)), _FLOWS_FIX())
    if changed:
        return Item(_FLOWS(), "fail", _FLOWS_CHANGED(files="、".join(changed)), _FLOWS_FIX())
    return Item(_FLOWS(), "ok")


def _in_ci() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true" or os.environ.get("GITEA_ACTIONS") == "true"


def _secrets(root: Path) -> Item:
    if not _in_ci():
        return Item(_SECRETS(), "skip", _NOT_CI())
    missing = [name for name in ("WECHAT_APPID", "WECHAT_SECRET") if not os.environ.get(name)]
    return Item(_SECRETS(), "fail", "、".join(missing), _SECRETS_FIX()) if missing else Item(_SECRETS(), "ok")


def _wechat(root: Path) -> Item:
    try:
        credentials = Credentials.from_environment()
    except GzhError:
        return Item(_WECHAT(), "skip", _NO_CREDENTIALS())
    try:
        WeChat(credentials, attempts=1).check_credentials()
    except GzhError as error:
        return Item(_WECHAT(), "fail", str(error), _WECHAT_FIX())
    return Item(_WECHAT(), "ok")


def _forge(root: Path) -> list[Item]:
    """What the token may do: read the repository and write statuses (the gate), write issues and labels
    (patrol, inbox, emergency); nothing permanent is created but the doctor's own commit status."""
    if not forge_module.configured():
        return [Item(_FORGE(), "skip", _NO_FORGE()), Item(_ISSUES(), "skip", _NO_FORGE())]
    forge = forge_module.from_environment()
    try:
        repository = forge.json("GET", forge.repo_path(""))
    except ForgeError as error:
        return [_unreadable(forge, error), Item(_ISSUES(), "skip", _NO_REPOSITORY())]
    return [_statuses(root, forge), _issues(forge, repository), *_visibility(forge, repository)]


def _visibility(forge: Forge, repository: Any) -> list[Item]:
    """Followers' messages (privately sent to the account) and comments go into issues: on a public repository
    anyone reads them, masked or not. Both forges say `private`; nothing is shown when an answer lacks it."""
    private = repository.get("private") if isinstance(repository, dict) else None
    if private is None:
        return []
    if private:
        return [Item(_PRIVATE(), "ok")]
    return [Item(_PRIVATE(), "warn", _PUBLIC(repository=forge.repository), _PUBLIC_FIX())]


def _unreadable(forge: Forge, error: ForgeError) -> Item:
    """A 404 on the repository itself is a wrong name or address, or a private repository out of sight."""
    if error.status == 404:
        return Item(_FORGE(), "fail", _NOT_FOUND(api=forge.api, repository=forge.repository),
                    _NOT_FOUND_FIX(repository=forge.repository, address=_API_ADDRESS(api=forge.api)))
    if error.status is None:  # no answer, or not the API's: the address, not the token
        return Item(_FORGE(), "fail", str(error), _UNREACHABLE_FIX(address=_API_ADDRESS(api=forge.api)))
    return Item(_FORGE(), "fail", str(error), _FORGE_FIX())


def _statuses(root: Path, forge: Forge) -> Item:
    try:
        if isinstance(forge, Gitea) and forge.version() < MINIMUM_VERSION:
            found = ".".join(map(str, forge.version()))
            return Item(_FORGE(), "fail", _OLD_GITEA(found=found), _OLD_GITEA_FIX())
        sha = open_repo(root).head.commit.hexsha
        forge.json("POST", forge.repo_path(f"/statuses/{sha}"),
                   json={"state": "success", "context": DOCTOR_CONTEXT, "description": _FORGE_STATUS()})
    except GzhError as error:
        return Item(_FORGE(), "fail", str(error), _FORGE_FIX())
    return Item(_FORGE(), "ok")


def _issues(forge: Forge, repository: Any) -> Item:
    """Read from the repository's `permissions` (the token's account's roles), so nothing is written to
    find out; an Actions or App token gets no such field and cannot be verified this way."""
    permissions = repository.get("permissions") if isinstance(repository, dict) else None
    if not isinstance(permissions, dict):
        return Item(_ISSUES(), "skip", _NO_PERMISSIONS(), _NO_PERMISSIONS_HINT())
    if any(permissions.get(role) is True for role in ISSUE_WRITERS):
        return Item(_ISSUES(), "ok")
    roles = "、".join(role for role, allowed in permissions.items() if allowed is True) or "—"
    return Item(_ISSUES(), "fail", _READ_ONLY(repository=forge.repository, roles=roles), _ISSUES_FIX())


def _service(root: Path) -> Item:
    """The process answers (health), is ready, accepts a delivery signed with our secret and refuses an
    unsigned one; each failure with its own fix. On Gitea, where the service is required, a missing
    GZH_BOT_URL says so."""
    base = os.environ.get("GZH_BOT_URL", "").rstrip("/")
    if not base:
        gitea = forge_module.kind() == "gitea"
        return Item(_SERVICE(), "skip", _NO_SERVICE(), _GITEA_NEEDS_SERVICE() if gitea else "")
    try:
        healthy = _http("GET", f"{base}/healthz")
    except OSError as error:
        cause = getattr(error, "reason", error)  # urllib's URLError wraps the refusal people recognise
        return Item(_SERVICE(), "fail", _SERVICE_SILENT(url=base, error=type(cause).__name__), _SERVICE_SILENT_FIX())
    if healthy != 200:
        return Item(_SERVICE(), "fail", _SERVICE_SILENT(url=base, error=f"HTTP {healthy}"), _SERVICE_SILENT_FIX())
    body = json.dumps({"zen": "gzh doctor"}).encode("utf-8")
    signature = webhooks.sign(os.environ.get("GZH_WEBHOOK_SECRET", ""), body)
    delivery = f"doctor-{os.getpid()}-{time.time()}"  # a new one each time, or the service answers "duplicate"
    try:
        ready = _http("GET", f"{base}/readyz")
        signed = _http("POST", f"{base}/webhook", body, {"X-GitHub-Event": "ping", "X-Gitea-Event": "ping",
                                                          "X-GitHub-Delivery": delivery, "X-Gitea-Delivery": delivery,
                                                          "X-Hub-Signature-256": f"sha256={signature}",
                                                          "X-Gitea-Signature": signature})
        unsigned = _http("POST", f"{base}/webhook", body, {"X-GitHub-Event": "ping", "X-GitHub-Delivery": "doctor-unsigned"})
    except OSError as error:
        return Item(_SERVICE(), "fail", _SERVICE_DOWN(url=base, error=type(error).__name__), _SERVICE_FIX())
    if ready != 200:
        return Item(_SERVICE(), "fail", _SERVICE_UNREADY(url=base, status=ready), _SERVICE_UNREADY_FIX())
    if signed != 200:
        return Item(_SERVICE(), "fail", _SERVICE_SECRET(status=signed), _SERVICE_FIX())
    if unsigned != 401:
        return Item(_SERVICE(), "fail", _SERVICE_OPEN(status=unsigned), _SERVICE_FIX())
    return Item(_SERVICE(), "ok")


def _notifications(root: Path, send_test: bool) -> list[Item]:
    """The robots' keys present and shaped right; with `send_test`, one test message to each channel."""
    try:
        policy = load_repository_policy(root)
    except GzhError:
        return [Item(_NOTIFY(), "skip", _POLICY_INVALID())]
    settings = policy.notifications
    if settings is None:  # no robots, nothing to check: not a skipped check
        return []
    if not (_in_ci() or send_test or any(name.startswith("GZH_NOTIFY_") for name in os.environ)):
        return [Item(_NOTIFY(), "skip", _NOTIFY_LOCAL())]
    problems = notify.configuration_problems(settings)
    items = [Item(_NOTIFY(), "fail", "；".join(problems), _NOTIFY_FIX()) if problems else Item(_NOTIFY(), "ok")]
    if send_test:  # a message delivered proves more than a probe answered
        return items + [_test_message(policy, channel) for channel in settings.channels.values()]
    return items + [_reachable(channel) for channel in settings.channels.values() if os.environ.get(channel.key, "").strip()]


def _reachable(channel: Channel) -> Item:
    """A probe the robot answers without posting: its own send address, the key (signed where DingTalk signs),
    and a message type neither service has, so nothing can reach the group.

    It proves this machine reaches the service (DNS, firewall, proxy, TLS) and that the service answers;
    a key the service turns down (WeCom 93000, DingTalk 300001 and 4001xx, 310000 sign or timestamp) is
    reported. It does not prove a message would arrive: the services may judge the message before the
    key, and a keyword or IP rule applies to real messages only. `--send-test` proves that."""
    name = notify.SERVICE_NAMES[channel.service]()
    url, params = notify.address(channel)
    host = urlsplit(url).netloc
    item = _REACH(channel=channel.name)
    try:  # the error's type only: requests writes the URL, and with it the key, into its messages
        response = requests.post(url, params=params, json={"msgtype": PROBE_TYPE}, timeout=notify.TIMEOUT)
    except requests.RequestException as error:
        return Item(item, "warn", _UNREACHABLE(service=name, error=type(error).__name__), _UNREACHABLE_ROBOT_FIX(host=host))
    answer = _robot_answer(response)
    if answer is None:
        return Item(item, "warn", _NOT_ROBOT(host=host, service=name, status=response.status_code), _UNREACHABLE_ROBOT_FIX(host=host))
    errcode, errmsg = answer
    if errcode in KEY_REFUSALS and "keyword" not in errmsg:  # DingTalk's keyword rule also says 310000: the key was fine
        return Item(item, "warn", _KEY_REFUSED(service=name, errcode=errcode), _TEST_FIX())
    return Item(item, "ok", _REACHED(service=name, errcode=errcode))


def _robot_answer(response: requests.Response) -> tuple[int, str] | None:
    """The robot's errcode and errmsg; None when the answer is not the robot API's (a proxy's page)."""
    try:
        answer = response.json()
    except ValueError:
        return None
    if response.status_code != 200 or not isinstance(answer, dict) or not isinstance(answer.get("errcode"), int):
        return None
    return answer["errcode"], str(answer.get("errmsg", ""))


def _test_message(policy: Policy, channel: Channel) -> Item:
    notice = notify.Notice("doctor", _TEST_TITLE(), (_TEST_LINE(account=policy.account_name, channel=channel.name),))
    delivery = notify.send(channel, notice)
    name = _TEST_SENT(channel=channel.name)
    return Item(name, "ok") if delivery.delivered else Item(name, "fail", delivery.problem, _TEST_FIX())


def _http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
