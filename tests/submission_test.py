"""The issue form 提交稿件 read back into a post (pipeline/submission.py): fields, problems, images."""
from __future__ import annotations

import yaml

from pipeline import submission
from pipeline.policy import parse_policy
from tests.support import POLICY_TEXT, submission_body

POLICY = parse_policy(POLICY_TEXT, "gzh.yml")
CREATED = "2026-11-28T02:00:00Z"


def read(text: str):
    return submission.read(7, "zhang-wei", CREATED, text, POLICY)


def test_a_submitted_form_becomes_a_post_in_its_departments_folder() -> None:
    found, problems = read(submission_body())
    assert problems == [] and found is not None
    assert found.folder == "content/office/2026-11-28-issue-7"  # made by gzh, never from the title
    text = submission.post_text(found, POLICY, found.body)
    meta = yaml.safe_load(text.split("---\n")[1])
    assert meta["title"] == "市总工会召开全委会议" and meta["category"] == "news" and meta["secrecy"]["conclusion"] == "可以公开"
    assert meta["secrecy"]["reviewer"] == "li-na" and "digest" not in meta and "repost" not in meta
    assert text.endswith("审议通过年度工作要点。\n")


def test_github_checks_boxes_with_a_capital_x() -> None:
    assert read(submission_body(uppercase_x=True))[1] == []


def test_each_wrong_field_is_named_in_chinese() -> None:
    found, problems = read(submission_body(checked=False, title="_No response_", department="财务部（finance）",
                                           repost="转载"))
    assert found is None
    assert [str(problem) for problem in problems] == [
        "**部门**：“财务部（finance）”不是表单里的选项，请从下拉列表中选择",
        "**标题**：必填，请填写",
        "**撰稿人保密自查（第六条第一款）**：请逐项完成保密自查并勾选：" + "；".join(submission.SELF_CHECKS),
        "**转载来源**：选择了“转载”，必须填写转载来源和原文链接（第五条第四款）",
    ]


def test_a_field_deleted_while_editing_is_named() -> None:
    text = submission_body().replace("### 作者\n", "")
    assert [str(problem) for problem in read(text)[1]] == [
        "**作者**：问题正文里找不到这一项：请用“提交稿件”表单提交，编辑时不要删除或改动 ### 开头的标题行"]


def test_headings_the_clerk_writes_in_the_body_stay_in_the_body() -> None:
    body = "第一段。\n\n### 一、会议内容\n\n第二段。\n\n### 审查依据\n\n引用了表单标题的一行。"
    found, problems = read(submission_body(body=body))
    assert problems == [] and found is not None and found.body == body


def test_a_repost_carries_its_source_and_values_cannot_break_out_of_the_front_matter() -> None:
    found, _ = read(submission_body(repost="转载", source_name="新华社", source_url="https://example.org/a",
                                    title='标题: "引号" --- \n第二行', author="办公室"))
    assert found is not None
    meta = yaml.safe_load(submission.post_text(found, POLICY, "正文").split("\n---\n")[0].removeprefix("---\n"))
    assert meta["repost"] is True and meta["source"] == {"name": "新华社", "url": "https://example.org/a"}
    assert meta["title"] == '标题: "引号" --- 第二行'


def test_only_the_forges_own_attachments_are_fetched() -> None:
    web = "http://127.0.0.1:9"
    body = (f"![会场]({web}/user-attachments/assets/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b)\n"
            '<img width="300" alt="合影" src="https://github.com/user-attachments/assets/1a2b3c4d-5e6f-7081-92a3-b4c5d6e7f809" />\n'
            "![外链](https://evil.example/x.png) ![本地](photo.jpg)\n")
    found = submission.attachments(body, web, "github")
    assert [item.name for item in found] == ["image-1", "image-2"]
    rewritten = submission.with_local_images(body, {found[0].source: "image-1.jpg", found[1].source: "image-2.png"})
    assert rewritten.splitlines()[:2] == ["![会场](image-1.jpg)", "![合影](image-2.png)"]
    assert "https://evil.example/x.png" in rewritten  # left for the checks (a remote image is an error there)
    gitea = submission.attachments("![图](/attachments/6f1c2d3e-aaaa-bbbb-cccc-0123456789ab)", web, "gitea")
    assert [item.url for item in gitea] == [f"{web}/attachments/6f1c2d3e-aaaa-bbbb-cccc-0123456789ab"]


def test_too_many_images_is_a_problem_of_the_body() -> None:
    many = [submission.Attachment(str(n), str(n), f"image-{n}") for n in range(submission.MAX_ATTACHMENTS + 1)]
    assert str(submission.too_many(many)) == f"**正文**：图片太多（{submission.MAX_ATTACHMENTS + 1} 张），一篇稿件最多 {submission.MAX_ATTACHMENTS} 张"


def test_the_form_offers_the_policys_departments_and_categories() -> None:
    form = yaml.safe_load(submission.form_yaml(POLICY))
    fields = {item.get("id"): item for item in form["body"]}
    assert "办公室（office）" in fields["department"]["attributes"]["options"]
    assert len(fields["category"]["attributes"]["options"]) == len(POLICY.categories)
    assert form["labels"] == [submission.LABEL]
