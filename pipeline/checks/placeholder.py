"""Text the `gzh new` template writes for the clerk to replace (pipeline/data/new-post.md.j2).

The template takes these values from here, so the rule and the template cannot drift apart. A
post still holding one is unfinished: a title nobody wrote, a line telling where the body goes,
a confidentiality basis nobody wrote (Art. 6(2): the head gives the reason, in their own words).

What the template fills in as a real default is left alone, because each is a legitimate final
value that the department head's approval confirms: the author (the department's name), the
reviewer (the department's first head), comments open, the conclusion 可以公开 (the basis, which
must be written, is what shows the section was considered). The category is no default: the
template asks for a choice (CATEGORY), and category-unknown reports it with the list to pick from.
"""
from __future__ import annotations

from typing import Iterator

from pipeline.checks.model import Hit, PostView, Severity, rule
from pipeline.i18n import Text

TITLE = "请填写标题"
CATEGORY = "请从上面的类别中选一个"
BASIS = "请部门负责人写明本文为什么可以公开"
BODY = "在这里写正文。图片放在本文件夹中，用 `![图片说明](photo.jpg)` 的写法插入。"
# What `gzh new` wrote as the basis before it asked for one: posts scaffolded then still hold it.
_FORMER_BASIS = "本文为公开的工作信息，不涉及国家秘密、工作秘密和个人敏感信息"

_TITLE = Text("标题还是模板里的“{text}”。请写上这篇文章的标题（最多 32 个字）",
              "The title is still the template's '{text}'. Write the post's title (at most 32 characters)")
_BASIS = Text(
    "保密审查依据（basis）还是模板里的文字，不能说明做过保密初审。请部门负责人用自己的话写明本文为什么可以公开："
    "写的是什么信息、是否已经公开过、是否涉及内部文件或个人信息",
    "The confidentiality basis is still the template's text, which shows no review. The department head "
    "writes in their own words why the post may be public: what it is about, whether it was public before, "
    "whether it touches internal documents or personal data")
_BODY = Text("这一行是模板里的提示“在这里写正文……”，不是正文，发布后读者会看到它。请删除这一行，写上正文",
             "This line is the template's hint 'write the body here', not the body; readers would see it. "
             "Delete it and write the body")


@rule("placeholder", Severity.ERROR, Text("gzh new 模板里的占位文字都已改写", "No template placeholder is left"),
      name=Text("模板占位文字", "template placeholder"))
def placeholder(view: PostView) -> Iterator[Hit]:
    if view.text_field("title") == TITLE:
        yield Hit(view.post.locate_field("title"), _TITLE(text=TITLE))
    if view.text_field("secrecy", "basis") in (BASIS, _FORMER_BASIS):
        yield Hit(view.post.locate_field("secrecy", "basis"), _BASIS())
    for index, line in enumerate(view.post.body.split("\n")):
        if line.strip() == BODY:
            indent = len(line) - len(line.lstrip())
            yield Hit(view.location(view.body_offset + view.body_line_start(index) + indent), _BODY())
