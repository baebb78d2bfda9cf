"""`gzh submit --issue N`: turn an issue submitted with the form 提交稿件 into a pull request.

Reads the issue (pipeline.submission: the fields, the problems), downloads the images dragged into
it (the forge's own attachments only, each at most 25 MB, shrunk within WeChat's limits), builds
the post folder as one commit on the default branch, force-pushes it to `gzh-submission/issue-N`
and opens the pull request (or lets the push update it), then answers on the issue in Chinese.
A closed issue closes its pull request; a reopened one reopens it. Only the issue's author may
change a submission by editing it: an edit by anyone else is refused (the author must never be
someone who could approve it). The gate then runs on the pull request as on any other.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from pipeline import forge as forge_module, media, output, submission
from pipeline.approval import PullRequest
from pipeline.forge import ForgeError, Issue
from pipeline.gitrefs import open_repo, push_files
from pipeline.i18n import Text
from pipeline.policy import load_repository_policy

MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024  # what the forges' browsers upload at most
_SUFFIXES = {"JPEG": ".jpg", "PNG": ".png", "GIF": ".gif"}

_ISSUE = Text("用“提交稿件”表单提交的问题编号", "the issue submitted with the form")
_EDITOR = Text("改动问题的人（工作流中来自事件；不是提交人时拒绝）", "who edited the issue (refused unless its author)")
_REMOTE = Text("推送稿件分支的远端（默认 origin）", "remote the submission branch is pushed to (default origin)")
_NOT_A_SUBMISSION = Text("问题 #{number} 没有“{label}”标签，不是用提交稿件表单提交的，不处理", "Issue #{number} is not a submission")
_PROBLEMS = Text("稿件还不能转成拉取请求，请编辑本问题，按下面的提示修改后保存（保存后会自动重新处理）：\n\n{problems}",
                 "This submission cannot become a pull request yet; edit the issue:\n\n{problems}")
_OPENED = Text("已生成拉取请求 #{pr}：{url}\n\n接下来由审批门禁检查稿件并请各环节审批，检查结果和手机预览见拉取请求中的“审批进度”评论。"
               "需要修改时直接编辑本问题，拉取请求会随之更新（之前的批准会失效）；关闭本问题即撤回稿件。",
               "Opened pull request #{pr}: {url}. Edit this issue to change the post; close it to withdraw.")
_UPDATED = Text("已按本问题的修改更新拉取请求 #{pr}（之前的批准已失效，需要重新批准）。", "Pull request #{pr} updated from this issue.")
_SHRUNK = Text("图片 {name} 有 {before}，超过微信的上限，已压缩为 {after}。", "Image {name} was {before}, over WeChat's limit; shrunk to {after}.")
_CLOSED = Text("问题已关闭，拉取请求 #{pr} 已一并关闭（稿件撤回）。重新打开问题即可恢复。", "Issue closed; pull request #{pr} closed too.")
_REOPENED = Text("问题已重新打开，拉取请求 #{pr} 已恢复。", "Issue reopened; pull request #{pr} reopened.")
_NOT_AUTHOR = Text("@{editor} 修改了本问题，但只有提交人 @{author} 的修改才会更新稿件（审批人不能改动自己要审批的稿件）。"
                   "这次修改没有采用；如需修改，请提交人编辑，或在拉取请求中提出修改意见。",
                   "@{editor} edited this issue, but only its author @{author} may change the submission; not applied.")
_PULL_TITLE = "稿件：{title}（#{number}）"
_PULL_BODY = ("由问题 #{number} 的“提交稿件”表单生成，提交人 @{author}。\n\n"
              "修改稿件请编辑问题 #{number}（不要直接修改本分支）；关闭该问题即撤回稿件。")
_IMAGE = Text("正文里的图片", "an image in the body")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--issue", type=int, required=True, help=_ISSUE())
    parser.add_argument("--editor", default="", help=_EDITOR())
    parser.add_argument("--remote", default="origin", help=_REMOTE())


def run(args: argparse.Namespace, root: Path) -> int:
    return submit_command(root, args.issue, editor=args.editor, remote=args.remote)


def submit_command(root: Path, number: int, *, editor: str = "", remote: str = "origin") -> int:
    forge = forge_module.from_environment()
    issue = forge.issue(number)
    if submission.LABEL not in issue.labels:
        output.write(_NOT_A_SUBMISSION(number=number, label=submission.LABEL) + "\n")
        return 0
    head_ref = submission.branch(number)
    if issue.state == "closed":
        return _withdraw(forge, number, head_ref)
    if editor and editor != issue.author:
        forge.comment_issue(number, _NOT_AUTHOR(editor=editor, author=issue.author))
        output.error(_NOT_AUTHOR(editor=editor, author=issue.author))
        output.step_output(filed="true")  # answered on the issue: no failure alert for the administrator
        return 1
    policy = load_repository_policy(root)
    found, problems = submission.read(number, issue.author, issue.created_at, issue.body, policy)
    attachments = submission.attachments(found.body, forge.web, forge.name) if found else []
    too_many = submission.too_many(attachments)
    if found is None or too_many is not None:
        return _answer_problems(forge, number, [*problems, *([too_many] if too_many else [])])
    try:
        files, saved, notes = _images(forge, found, attachments)
    except (ForgeError, media.ImageRefused) as error:  # too large, not an image, a bomb: the clerk replaces it
        return _answer_problems(forge, number, [submission.FieldProblem(submission.FIELDS_BY_ID["body"], str(error))])
    text = submission.post_text(found, policy, submission.with_local_images(found.body, saved))
    files[submission.post_path(found).as_posix()] = text.encode("utf-8")
    repo = open_repo(root)
    push_files(repo, remote, head_ref, files, f"稿件：{found.title}（#{number}）", parent=repo.head.commit.hexsha,
               author=issue.author or "gzh")
    pr = _pull_request(forge, issue, found, head_ref, notes)
    output.step_output(pr=pr.number)  # for the workflow's next step, the gate
    return 0


def _images(forge: forge_module.Forge, found: submission.Submission,
            attachments: list[submission.Attachment]) -> tuple[dict[str, bytes], dict[str, str], list[str]]:
    """Each attachment downloaded and made acceptable to WeChat: (files by path, body source → file name, notes)."""
    files: dict[str, bytes] = {}
    saved: dict[str, str] = {}
    notes: list[str] = []
    with tempfile.TemporaryDirectory() as folder:
        for attachment in attachments:
            data = forge.download(attachment.url, MAX_ATTACHMENT_BYTES)
            raw = Path(folder) / attachment.name
            raw.write_bytes(data)
            kind = media.inspect(raw, _IMAGE()).format  # not an image, or a bomb: refused before decoding
            typed = raw.rename(raw.with_suffix(_SUFFIXES.get(kind, "." + kind.lower())))
            upload = media.body_image(typed, _IMAGE())
            name = upload.filename
            if len(upload.data) < len(data):
                notes.append(_SHRUNK(name=name, before=media.megabytes(len(data)), after=media.megabytes(len(upload.data))))
            files[f"{found.folder}/{name}"] = upload.data
            saved[attachment.source] = name
    return files, saved, notes


def _pull_request(forge: forge_module.Forge, issue: Issue, found: submission.Submission, head_ref: str,
                  notes: list[str]) -> PullRequest:
    """The pull request the pushed branch feeds: the open one, the withdrawn one reopened, or a new one."""
    title = _PULL_TITLE.format(title=found.title, number=issue.number)
    pr = forge.open_pull_from(head_ref)
    if pr is not None:
        message = _UPDATED(pr=pr.number)
    elif (pr := forge.closed_pull_from(head_ref)) is not None:
        forge.set_pull_open(pr.number, True, title=title)
        message = _REOPENED(pr=pr.number)
    else:
        pr = forge.create_pull(title, _PULL_BODY.format(number=issue.number, author=issue.author), head_ref,
                               forge.default_branch)
        message = _OPENED(pr=pr.number, url=pr.url)
    forge.comment_issue(issue.number, "\n\n".join([message, *notes]))
    return pr


def _withdraw(forge: forge_module.Forge, number: int, head_ref: str) -> int:
    pr = forge.open_pull_from(head_ref)
    if pr is not None:
        forge.set_pull_open(pr.number, False)
        forge.comment_issue(number, _CLOSED(pr=pr.number))
    return 0


def _answer_problems(forge: forge_module.Forge, number: int, problems: list[submission.FieldProblem]) -> int:
    text = _PROBLEMS(problems="\n".join(f"- {problem}" for problem in problems))
    forge.comment_issue(number, text)
    output.error(text)
    output.step_output(filed="true")  # answered on the issue: no failure alert for the administrator
    return 1
