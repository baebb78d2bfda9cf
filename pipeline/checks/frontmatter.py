"""Rules on the front matter and on where the post lives (Art. 3, 4, 5(4), 6(2))."""
from __future__ import annotations

from typing import Iterator

from pipeline import posts, render
from pipeline.checks.model import Hit, PostView, Rule, Severity, rule
from pipeline.i18n import Text
from pipeline.yamlsource import Location

_UNKNOWN_DEPARTMENT = Text(
    "文章必须放在某个部门的文件夹里：content/<部门文件夹>/<文章文件夹>/index.md。“{folder}”不是 gzh.yml 中登记的部门文件夹，可用的有：{known}",
    "A post must live in a department folder, content/<department>/<post>/index.md. '{folder}' is not a "
    "department folder in gzh.yml; known: {known}")
NON_REGULAR_FILE = Text(
    "“{path}”是符号链接（或其他特殊文件），不是普通文件。审批的是链接本身，发布时读到的却是它指向的内容，"
    "所以一律不允许：请删除它，把真正的文件复制到文章文件夹里再提交",
    "'{path}' is a symbolic link (or another special file), not a plain file. Approval would cover the link "
    "while publishing reads what it points to: remove it and commit the real file in the post folder")
_UNKNOWN_CATEGORY = Text(
    "“{value}”不是第四条规定的信息类别。请改为以下之一：{known}",
    "'{value}' is not one of the categories of Art. 4. Use one of: {known}")
_NO_SOURCE = Text(
    "转载的文章必须注明来源（第五条第四款）：请填写 source 的 name（来源名称）和 url（原文链接）",
    "A repost must name its source (Art. 5(4)): fill in source.name and source.url")
_SOURCE_NOT_REPOST = Text(
    "填写了 source 但没有写 repost: true。如果是转载，请加上 repost: true；如果不是，请删除 source",
    "source is set but repost is not true. Add repost: true for a repost, or remove source")
_BAD_SOURCE_URL = Text(
    "来源链接必须以 https:// 或 http:// 开头，请填写原文的完整网址",
    "The source link must start with https:// or http://; give the full address")
_NOT_A_HEAD = Text(
    "保密初审人“{reviewer}”不是{department}的负责人。第六条第二款要求由部门负责人初审，请填写：{heads}",
    "Reviewer '{reviewer}' is not a head of {department}. Art. 6(2) requires the department head: {heads}")
STRAY_FILE = Text(
    "这个 Markdown 文件不会被发布：每篇文章要单独放一个文件夹，正文文件名为 index.md，例如 content/office/2026-11-28-meeting/index.md",
    "This Markdown file will not be published: each post needs its own folder with index.md, "
    "e.g. content/office/2026-11-28-meeting/index.md")
_UNKNOWN_THEME = Text("没有“{theme}”这个排版主题。可用的主题：{known}（templates/themes/ 下的文件）",
                      "No theme '{theme}'. Available: {known} (files under templates/themes/)")
_RAW_HTML = Text("正文里的 HTML 代码“{html}”不会生效，会按原样显示为文字。请改用 Markdown 写法（加粗 **文字**、图片 ![说明](文件名)）",
                 "Raw HTML '{html}' has no effect and will show as text. Use Markdown instead")
_REVIEW_REQUESTED = Text(
    "部门负责人请求保密委员会办公室复审（第六条第三款），审批时将增加保密办一级",
    "The department head asked the secrecy office to review (Art. 6(3)); its tier will be required")


POST_LAYOUT = Rule(
    "post-layout", Severity.ERROR, Text("每篇文章是 content/<部门>/<文件夹>/index.md", "Each post is content/<dept>/<folder>/index.md"),
    check=None,  # about files that are not posts, so the check command reports it from posts.stray_markdown
    name=Text("文章位置", "post layout"),
)


@rule("front-matter", Severity.ERROR, Text("元数据（文件开头 --- 之间的字段）格式正确、字段齐全",
                                           "Front matter is well-formed and complete"),
      name=Text("元数据", "front matter"))
def front_matter(view: PostView) -> Iterator[Hit]:
    for problem in view.post.problems:
        where = f"{problem.key_path}：" if problem.key_path else ""
        yield Hit(problem.location, f"{where}{problem.message}")


@rule("non-regular-file", Severity.ERROR, Text("文章文件夹里只有普通文件（没有符号链接）",
                                                "Post folders hold plain files only (no symbolic links)"),
      name=Text("符号链接", "symbolic link"))
def non_regular_file(view: PostView) -> Iterator[Hit]:
    if (view.root / posts.CONTENT_DIR) not in view.post.folder.parents:
        return  # not a post on disk (a live article or a reply re-checked as text): no files to look at
    for path in posts.non_regular_entries(view.post.folder, view.root):
        yield Hit(Location(path), NON_REGULAR_FILE(path=path))


@rule("department-unknown", Severity.ERROR, Text("文章位于 gzh.yml 中登记的部门文件夹", "Post is in a known department folder"),
      name=Text("部门文件夹", "department folder"))
def department_unknown(view: PostView) -> Iterator[Hit]:
    if view.policy.department_by_folder(view.post.department_folder) is None:
        known = "、".join(f"{dept.folder}（{dept.name}）" for dept in view.policy.departments)
        folder = view.post.department_folder or view.path
        yield Hit(view.location(0), _UNKNOWN_DEPARTMENT(folder=folder, known=known))


@rule("category-unknown", Severity.ERROR, Text("类别是第四条规定的六类信息之一", "Category is one of Art. 4's"),
      name=Text("信息类别", "category"))
def category_unknown(view: PostView) -> Iterator[Hit]:
    category = view.text_field("category")
    if category and view.policy.category(category) is None:
        known = "、".join(f"{cat.slug}（{cat.name}）" for cat in view.policy.categories)
        yield Hit(view.post.locate_field("category"), _UNKNOWN_CATEGORY(value=category, known=known))


@rule("repost-source", Severity.ERROR, Text("转载注明来源名称和链接", "A repost names its source and link"),
      name=Text("转载来源", "repost source"))
def repost_source(view: PostView) -> Iterator[Hit]:
    data = view.post.document.data if view.post.document else None
    if not isinstance(data, dict):
        return
    repost, source, url = data.get("repost") is True, data.get("source"), view.text_field("source", "url")
    if repost and not source:
        yield Hit(view.post.locate_field("repost"), _NO_SOURCE())
    if source and not repost:
        yield Hit(view.post.locate_field("source"), _SOURCE_NOT_REPOST())
    if url and not url.lower().startswith(("https://", "http://")):
        yield Hit(view.post.locate_field("source", "url"), _BAD_SOURCE_URL())


@rule("secrecy-reviewer", Severity.ERROR, Text("保密初审人是本部门负责人", "The pre-reviewer heads the post's department"),
      name=Text("保密初审人", "secrecy reviewer"))
def secrecy_reviewer(view: PostView) -> Iterator[Hit]:
    reviewer = view.text_field("secrecy", "reviewer")
    department = view.policy.department_by_folder(view.post.department_folder)
    if not reviewer or department is None or reviewer in department.heads:
        return
    heads = view.policy.names(department.heads)
    message = _NOT_A_HEAD(reviewer=reviewer, department=department.name, heads=heads)
    yield Hit(view.post.locate_field("secrecy", "reviewer"), message)


@rule("secrecy-review-requested", Severity.INFO,
      Text("部门负责人请求保密办复审", "The department head asked for the secrecy office's review"), secrecy=True,
      name=Text("请求保密办复审", "secrecy review requested"))
def secrecy_review_requested(view: PostView) -> Iterator[Hit]:
    if view.text_field("secrecy", "conclusion") == "需保密办复审":
        yield Hit(view.post.locate_field("secrecy", "conclusion"), _REVIEW_REQUESTED())


@rule("theme-unknown", Severity.ERROR, Text("指定的排版主题存在", "The chosen theme exists"), name=Text("排版主题", "theme"))
def theme_unknown(view: PostView) -> Iterator[Hit]:
    theme = view.text_field("theme")
    if theme and theme not in render.themes(view.root):
        known = "、".join(render.themes(view.root)) or "—"
        yield Hit(view.post.locate_field("theme"), _UNKNOWN_THEME(theme=theme, known=known))


@rule("raw-html", Severity.WARNING, Text("正文不含 HTML 代码（不会生效）", "No raw HTML in the body (it has no effect)"),
      name=Text("HTML 代码", "raw HTML"))
def raw_html(view: PostView) -> Iterator[Hit]:
    for token in view.tokens:
        candidates = [token] if token.type == "html_block" else [
            child for child in (token.children or []) if child.type == "html_inline"]
        for candidate in candidates:
            html = candidate.content.strip()
            if html.startswith("<!--"):
                continue  # comments are dropped silently; gzh-ignore lives in them
            line = token.map[0] if token.map else 0
            offset = view.post.text.find(html, view.body_offset + view.body_line_start(line))
            yield Hit(view.location(offset if offset >= 0 else view.body_offset), _RAW_HTML(html=html[:40]))

