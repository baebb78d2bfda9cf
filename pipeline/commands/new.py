"""`gzh new`: scaffold a post bundle for a department, every field explained in Chinese."""
from __future__ import annotations

import argparse
import datetime as dt
import re
from importlib import resources
from pathlib import Path

import jinja2
import yaml

from pipeline import output, posts
from pipeline.checks import placeholder
from pipeline.errors import UsageError
from pipeline.i18n import Text
from pipeline.policy import Department, Policy, load_repository_policy

_DEPARTMENT = Text("部门编号、文件夹名或中文名", "department slug, folder or Chinese name")
_SLUG_HELP = Text("文章文件夹名（小写字母、数字、-）", "post folder name")
_TITLE = Text("文章标题", "post title")
_DATE = Text("日期（默认今天），写成 2026-11-28", "date (default today)")
_UNKNOWN_DEPARTMENT = Text("没有这个部门：“{value}”。可用的部门：{known}", "No such department '{value}'. Known: {known}")
_BAD_SLUG = Text("文件夹名“{value}”只能用小写字母、数字和“-”，例如 annual-meeting",
                 "Folder name '{value}' may use lowercase letters, digits and '-' only, e.g. annual-meeting")
_BAD_DATE = Text("日期“{value}”格式不对，请写成 2026-11-28", "Date '{value}' is malformed; write 2026-11-28")
_CREATED = Text(
    "已创建 {path}\n下一步：填写标题、类别和保密审查依据，写正文，把图片放进同一文件夹，然后运行 gzh check {folder}",
    "Created {path}\nNext: fill in the title, category and confidentiality basis, write the body, put images in "
    "the same folder, then run gzh check {folder}")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")


SLUG = "post"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("department", help=_DEPARTMENT())
    parser.add_argument("--slug", default=SLUG, help=_SLUG_HELP())
    parser.add_argument("--title", help=_TITLE())
    parser.add_argument("--date", help=_DATE())


def run(args: argparse.Namespace, root: Path) -> int:
    return new_command(root, args.department, slug=args.slug, title=args.title, date=args.date)


def new_command(root: Path, department: str, *, slug: str = SLUG, title: str | None = None,
                date: str | None = None) -> int:
    policy = load_repository_policy(root)
    dept = _find_department(policy, department)
    if not _SLUG.match(slug):
        raise UsageError(_BAD_SLUG(value=slug))
    day = _parse_day(date)
    folder = _free_folder(root / posts.CONTENT_DIR / dept.folder, f"{day.isoformat()}-{slug}")
    folder.mkdir(parents=True)
    target = folder / posts.POST_FILE
    target.write_text(_render(policy, dept, title or placeholder.TITLE), "utf-8")
    relative = folder.relative_to(root).as_posix()
    output.write(_CREATED(path=f"{relative}/{posts.POST_FILE}", folder=relative) + "\n")
    return 0


def _find_department(policy: Policy, value: str) -> Department:
    for dept in policy.departments:
        if value in (dept.slug, dept.folder, dept.name):
            return dept
    known = "、".join(f"{dept.slug}（{dept.name}）" for dept in policy.departments)
    raise UsageError(_UNKNOWN_DEPARTMENT(value=value, known=known))


def _parse_day(value: str | None) -> dt.date:
    if value is None:
        return dt.datetime.now(posts.BEIJING).date()
    try:
        return posts.parse_date(value)
    except ValueError:
        raise UsageError(_BAD_DATE(value=value)) from None


def _free_folder(parent: Path, name: str) -> Path:
    candidate, number = parent / name, 2
    while candidate.exists():
        candidate, number = parent / f"{name}-{number}", number + 1
    return candidate


def _render(policy: Policy, dept: Department, title: str) -> str:
    source = resources.files("pipeline").joinpath("data", "new-post.md.j2").read_text("utf-8")
    template = jinja2.Environment(keep_trailing_newline=True, autoescape=False).from_string(source)
    heads = policy.names(dept.heads)
    return template.render(
        title=_yaml_scalar(title), author=_yaml_scalar(dept.name), categories=policy.categories, department=dept, heads=heads,
        placeholders=placeholder,
    )


def _yaml_scalar(value: str) -> str:
    """The value as one line of YAML, quoted only when it must be (e.g. a title with ': ')."""
    return yaml.safe_dump(value, allow_unicode=True, width=10_000).removesuffix("\n...\n").strip()
