"""Posts submitted through the issue form “提交稿件”, for clerks who never touch git.

The form is made from gzh.yml (its departments and the six categories of Art. 4) and kept in
`.github/ISSUE_TEMPLATE/` (Gitea reads that folder too). GitHub and Gitea turn a submitted form
into the issue's text the same way: each field as `### <label>`, a blank line, its value (or
`_No response_`), checkboxes as `- [x] <label>`. This module reads that text back, field by field,
into a `Submission`, with a Chinese problem per field that is wrong; finds the images the clerk
dragged into the body (the forge's own attachment addresses, nothing else is fetched); and writes
the post's folder: `content/<department>/<date>-issue-<N>/index.md` and the images beside it.

The issue's text is hostile input: the department and category are checked against the policy,
the folder name is made by gzh (never from the title), attachments are counted and sized, and
every value reaches the front matter through the YAML dumper, never by pasting text.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

import yaml

from pipeline.i18n import Text
from pipeline.policy import Policy
from pipeline.posts import BEIJING, CONTENT_DIR, POST_FILE

FORM_FILE = ".github/ISSUE_TEMPLATE/submit-post.yml"
LABEL = "稿件"
BRANCH = "gzh-submission/issue-{number}"
BRANCH_PATTERN = re.compile(r"gzh-submission/issue-(\d+)")
MAX_ATTACHMENTS = 20
NO_RESPONSE = "_No response_"
CONCLUSIONS = ("可以公开", "需保密办复审")
REPOST = ("原创", "转载")


@dataclass(frozen=True)
class Field:
    id: str
    label: str               # the form is one file everyone is shown: written in Chinese
    kind: str                 # input, textarea, dropdown, checkboxes
    required: bool = True
    description: str = ""
    placeholder: str = ""


FIELDS: tuple[Field, ...] = (
    Field("department", "部门", "dropdown", description="稿件所属部门；由该部门负责人做保密初审并第一个批准"),
    Field("category", "信息类别（第四条）", "dropdown"),
    Field("title", "标题", "input", description="最多 32 个字", placeholder="例：市总工会召开十届五次全委会议"),
    Field("author", "作者", "input", description="最多 16 个字，一般写部门名称或撰稿人", placeholder="例：办公室"),
    Field("digest", "摘要", "textarea", required=False, description="可选，最多 128 个字；不写则由微信取正文开头"),
    Field("repost", "原创或转载", "dropdown", description="转载其他单位的文章时选“转载”，并填写下面的来源（第五条第四款）"),
    Field("source_name", "转载来源", "input", required=False, description="转载时必填：来源单位或媒体名称"),
    Field("source_url", "原文链接", "input", required=False, description="转载时必填：https:// 开头的原文链接"),
    Field("body", "正文", "textarea", description="直接输入正文；图片用鼠标拖进这个框（或粘贴），会自动上传并插入。小标题用 ## 开头，不要用 ###。",
       placeholder="在这里写正文……"),
    Field("conclusion", "保密初审结论（第六条第二款，由部门负责人确认）", "dropdown",
       description="部门负责人在拉取请求中批准即确认这一结论；不能确定时选“需保密办复审”"),
    Field("basis", "审查依据", "input", description="一句话写明为什么可以公开（不要照抄示例）"),
    Field("self_check", "撰稿人保密自查（第六条第一款）", "checkboxes"),
)
FIELDS_BY_ID = {field.id: field for field in FIELDS}
SELF_CHECKS = (
    "不含国家秘密、工作秘密和内部事项",
    "不含身份证号、手机号、银行卡号等个人信息（确需公开的已征得本人同意）",
    "文中的事实、数字、人名、职务已经核对",
)

_REQUIRED = Text("必填，请填写", "required")
_NOT_AN_OPTION = Text("“{value}”不是表单里的选项，请从下拉列表中选择", "'{value}' is not one of the form's options")
_SOURCE_NEEDED = Text("选择了“转载”，必须填写转载来源和原文链接（第五条第四款）", "a repost needs its source and link (Art. 5(4))")
_BAD_URL = Text("原文链接要以 https:// 或 http:// 开头", "the link must start with https:// or http://")
_UNCHECKED = Text("请逐项完成保密自查并勾选：{items}", "tick each self-check: {items}")
_MISSING_FIELD = Text("问题正文里找不到这一项：请用“提交稿件”表单提交，编辑时不要删除或改动 ### 开头的标题行",
                      "not found: submit with the form and keep its ### headings when editing")
_TOO_MANY_IMAGES = Text("图片太多（{count} 张），一篇稿件最多 {limit} 张", "too many images ({count}; at most {limit})")
_SLUG = "{date}-issue-{number}"


@dataclass(frozen=True)
class FieldProblem:
    field: Field
    message: str

    def __str__(self) -> str:
        return f"**{self.field.label}**：{self.message}"


@dataclass(frozen=True)
class Submission:
    number: int
    author_login: str
    created: dt.date
    department: str           # a department slug of the policy
    category: str             # a category slug
    title: str
    author: str
    digest: str
    source: tuple[str, str] | None   # (name, url) for a repost
    body: str
    conclusion: str
    basis: str

    department_folder: str

    @property
    def folder(self) -> str:
        return f"{CONTENT_DIR}/{self.department_folder}/{_SLUG.format(date=self.created.isoformat(), number=self.number)}"


# -- the form -------------------------------------------------------------------------------------

def form_yaml(policy: Policy) -> str:
    """The issue form, from the policy: regenerate with `gzh form` after changing departments."""
    options = {"department": [_option(d.name, d.slug) for d in policy.departments],
               "category": [_option(c.name, c.slug) for c in policy.categories],
               "repost": list(REPOST), "conclusion": list(CONCLUSIONS)}
    body: list[dict[str, Any]] = [{"type": "markdown", "attributes": {"value": _INTRO}}]
    for field in FIELDS:
        attributes: dict[str, Any] = {"label": field.label}
        if field.description:
            attributes["description"] = field.description
        if field.placeholder:
            attributes["placeholder"] = field.placeholder
        if field.kind == "dropdown":
            attributes["options"] = options[field.id]
        if field.kind == "checkboxes":
            attributes["options"] = [{"label": item, "required": True} for item in SELF_CHECKS]
        entry: dict[str, Any] = {"type": field.kind, "id": field.id, "attributes": attributes}
        if field.kind != "checkboxes":
            entry["validations"] = {"required": field.required}
        body.append(entry)
    form = {"name": "提交稿件", "description": _DESCRIPTION, "title": "稿件：", "labels": [LABEL], "body": body}
    header = "# 由 gzh.yml 生成（gzh form），请不要直接修改：部门和栏目改了以后运行 gzh form 重新生成。\n"
    return header + yaml.safe_dump(form, allow_unicode=True, sort_keys=False, width=1000)


_INTRO = ("填写后点“提交”，系统会自动把稿件整理成待审批的拉取请求，并在本页回复链接和检查结果。"
              "需要修改时，直接编辑本页（点右上角“…”→“编辑”），拉取请求会随之更新；关闭本页即撤回稿件。")
_DESCRIPTION = "部门撰稿人提交公众号稿件（不需要会用 git）"


def _option(name: str, slug: str) -> str:
    return f"{name}（{slug}）"


# -- reading a submitted form back ----------------------------------------------------------------

def sections(text: str) -> dict[str, str]:
    """Each field's value as the forge wrote it, found by the form's own labels in order.

    The body may hold `###` lines of its own: the fields after it are found from the end of the
    text, so a value runs to the next field's heading, never to a heading the clerk wrote.
    """
    text = text.replace("\r\n", "\n")
    after_body = FIELDS.index(FIELDS_BY_ID["body"]) + 1
    starts: list[tuple[Field, int, int]] = []
    cursor = 0
    for index, field in enumerate(FIELDS):
        head = f"### {field.label}\n"
        start = text.rfind(head) if index >= after_body else text.find(head, cursor)
        if start >= cursor:
            starts.append((field, start, start + len(head)))
            cursor = start + len(head)
    found = {}
    for (field, _, value_start), following in zip(starts, [*starts[1:], None]):
        end = following[1] if following else len(text)
        found[field.id] = text[value_start:end].strip("\n")
    return found


def read(number: int, author_login: str, created_at: str, text: str,
         policy: Policy) -> tuple[Submission | None, list[FieldProblem]]:
    """The submission in an issue's text, or the problems with it (one per field that is wrong)."""
    values = sections(text)
    problems: list[FieldProblem] = []

    def value(field_id: str) -> str:
        field = FIELDS_BY_ID[field_id]
        if field_id not in values:
            problems.append(FieldProblem(field, _MISSING_FIELD()))
            return ""
        raw = values[field_id].strip()
        raw = "" if raw == NO_RESPONSE else raw
        if field.required and not raw and field.kind != "checkboxes":
            problems.append(FieldProblem(field, _REQUIRED()))
        return raw

    department = _chosen(FIELDS_BY_ID["department"], value("department"), {_option(d.name, d.slug): d for d in policy.departments}, problems)
    category = _chosen(FIELDS_BY_ID["category"], value("category"), {_option(c.name, c.slug): c for c in policy.categories}, problems)
    title, author, digest = value("title"), value("author"), value("digest")
    repost = _chosen(FIELDS_BY_ID["repost"], value("repost"), {option: option for option in REPOST}, problems)
    source_name, source_url = value("source_name"), value("source_url")
    body, basis = value("body"), value("basis")
    conclusion = _chosen(FIELDS_BY_ID["conclusion"], value("conclusion"), {option: option for option in CONCLUSIONS}, problems)
    _self_check(FIELDS_BY_ID["self_check"], value("self_check"), problems)
    source = None
    if repost == "转载":
        if not source_name or not source_url:
            problems.append(FieldProblem(FIELDS_BY_ID["source_name"], _SOURCE_NEEDED()))
        elif not source_url.startswith(("https://", "http://")):
            problems.append(FieldProblem(FIELDS_BY_ID["source_url"], _BAD_URL()))
        source = (source_name, source_url)
    if problems or department is None or category is None:
        return None, problems
    created = dt.datetime.fromisoformat(created_at.replace("Z", "+00:00")).astimezone(BEIJING).date()
    return Submission(number, author_login, created, department.slug, category.slug, " ".join(title.split()),
                      " ".join(author.split()), " ".join(digest.split()), source, body, conclusion or CONCLUSIONS[0],
                      " ".join(basis.split()), department.folder), []


def _chosen(field: Field, raw: str, options: dict[str, Any], problems: list[FieldProblem]) -> Any:
    if not raw:
        return None
    if raw not in options:
        problems.append(FieldProblem(field, _NOT_AN_OPTION(value=raw[:40])))
        return None
    return options[raw]


def _self_check(field: Field, raw: str, problems: list[FieldProblem]) -> None:
    ticked = {match.group(2).strip() for match in re.finditer(r"^- \[([xX])\] (.+)$", raw, re.MULTILINE)}
    missing = [item for item in SELF_CHECKS if item not in ticked]
    if missing:
        problems.append(FieldProblem(field, _UNCHECKED(items="；".join(missing))))


# -- the images the clerk dragged in --------------------------------------------------------------

_MARKDOWN_IMAGE = re.compile(r"!\[([^\]\n]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HTML_IMAGE = re.compile(r"<img\b[^>]*?\bsrc=\"([^\"]+)\"[^>]*>", re.IGNORECASE)
_ALT = re.compile(r"\balt=\"([^\"]*)\"", re.IGNORECASE)


@dataclass(frozen=True)
class Attachment:
    source: str     # as written in the body (Gitea writes /attachments/…, relative)
    url: str        # absolute, on the forge
    name: str       # the file it becomes in the post folder (image-1.png …), its extension set after download


def attachments(body: str, forge_web: str, flavour: str) -> list[Attachment]:
    """The forge's own attachment addresses in the body, each once, in order; anything else is left
    as written (a remote image is then the checks' business, never fetched here)."""
    found: list[Attachment] = []
    for source in [*(match.group(2) for match in _MARKDOWN_IMAGE.finditer(body)),
                   *(match.group(1) for match in _HTML_IMAGE.finditer(body))]:
        url = _attachment_url(source, forge_web, flavour)
        if url and all(item.source != source for item in found):
            found.append(Attachment(source, url, f"image-{len(found) + 1}"))
    return found


def _attachment_url(source: str, web: str, flavour: str) -> str:
    web = web.rstrip("/")
    if flavour == "gitea":
        match = re.fullmatch(r"(?:%s)?/attachments/([0-9a-fA-F-]{8,64})" % re.escape(web), source)
        return f"{web}/attachments/{match.group(1)}" if match else ""
    pattern = r"(?:%s|https://github\.com)/user-attachments/assets/([0-9a-fA-F-]{8,64})" % re.escape(web)
    return source if re.fullmatch(pattern, source) else ""


def with_local_images(body: str, saved: dict[str, str]) -> str:
    """The body with each attachment written as a Markdown image of its file in the post folder."""
    def markdown(match: re.Match[str]) -> str:
        name = saved.get(match.group(2))
        return f"![{match.group(1)}]({name})" if name else match.group(0)

    def html(match: re.Match[str]) -> str:
        name = saved.get(match.group(1))
        alt = _ALT.search(match.group(0))
        return f"![{alt.group(1) if alt else ''}]({name})" if name else match.group(0)

    return _HTML_IMAGE.sub(html, _MARKDOWN_IMAGE.sub(markdown, body))


def too_many(found: list[Attachment]) -> FieldProblem | None:
    if len(found) <= MAX_ATTACHMENTS:
        return None
    return FieldProblem(FIELDS_BY_ID["body"], _TOO_MANY_IMAGES(count=len(found), limit=MAX_ATTACHMENTS))


# -- the post -------------------------------------------------------------------------------------

def post_text(submission: Submission, policy: Policy, body: str) -> str:
    """index.md: the front matter through the YAML dumper (no value can break out of it), then the body."""
    department = next(d for d in policy.departments if d.slug == submission.department)
    meta: dict[str, Any] = {"title": submission.title, "author": submission.author, "category": submission.category}
    if submission.digest:
        meta["digest"] = submission.digest
    if submission.source is not None:
        meta["repost"] = True
        meta["source"] = {"name": submission.source[0], "url": submission.source[1]}
    meta["comments"] = "open"
    meta["secrecy"] = {"conclusion": submission.conclusion, "reviewer": department.heads[0] if department.heads else "",
                       "basis": submission.basis}
    header = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000)
    origin = f"<!-- 由问题 #{submission.number} 的“提交稿件”表单生成；修改请编辑该问题 -->\n\n"
    return f"---\n{header}---\n\n{origin}{body.strip()}\n"


def branch(number: int) -> str:
    return BRANCH.format(number=number)


def issue_of(head_ref: str) -> int | None:
    """The issue a submission branch was made from (`gzh-submission/issue-N`), if it is one."""
    match = BRANCH_PATTERN.fullmatch(head_ref)
    return int(match.group(1)) if match else None


def post_path(submission: Submission) -> PurePosixPath:
    return PurePosixPath(submission.folder) / POST_FILE
