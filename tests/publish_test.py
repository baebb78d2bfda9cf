"""The publish stage against the sandbox over real HTTP: every fault ends in one article, one record."""
from __future__ import annotations

import datetime as dt
import os
import threading
from pathlib import Path
from typing import Iterator

import pytest

from pipeline import posts
from pipeline.posts import BEIJING
from pipeline.ledger import fold
from tests.support import Account, front_matter, write_image, write_post


@pytest.fixture
def account(tmp_path: Path) -> Iterator[Account]:
    account = Account(tmp_path)
    yield account
    account.close()


def post_with_images(account: Account, slug: str, images: list[str], title: str = "市总工会召开全委会议") -> Path:
    body = "正文第一段。\n\n" + "".join(f"![图{index}]({name})\n\n" for index, name in enumerate(images))
    file = write_post(account.root, body, slug=slug, meta=front_matter(title=title))
    for index, name in enumerate(images):
        write_image(file.parent / name, size=(60 + index, 40))
    return file


def statuses(outcomes: list) -> list[str]:
    return [outcome.status for outcome in outcomes]


def test_counted_calls_cache_across_posts_and_rerun_writes_nothing(account: Account) -> None:
    first = post_with_images(account, "a", ["one.png", "two.png"], "第一篇")
    account.commit()
    assert statuses(account.publish(first)) == ["published"]
    assert sorted(account.writes()) == sorted(["media/uploadimg", "media/uploadimg", "material/add_material",
                                               "draft/add", "freepublish/submit"])
    second = write_post(account.root, "![同一张图](same.png)\n", slug="b", meta=front_matter(title="第二篇"))
    (second.parent / "same.png").write_bytes((first.parent / "one.png").read_bytes())
    before = len(account.writes())
    assert statuses(account.publish(second)) == ["published"]
    # the image is known by its bytes: no upload; the cover (the same bytes as material) is known too
    assert account.writes()[before:] == ["draft/add", "freepublish/submit"]
    before = len(account.sandbox.calls())
    assert statuses(account.publish(first, second)) == ["skipped", "skipped"]
    assert account.sandbox.calls()[before:] == []
    assert len(account.articles()) == 2


def test_published_article_is_readable_with_its_images(account: Account) -> None:
    file = post_with_images(account, "a", ["one.png"])
    outcome = account.publish(file)[0]
    import urllib.request

    with urllib.request.urlopen(outcome.url, timeout=5) as response:
        page = response.read().decode("utf-8")
    assert "市总工会召开全委会议" in page and account.sandbox.url + "mmbiz/" in page


def test_token_invalidated_mid_run(account: Account) -> None:
    files = [post_with_images(account, slug, [], slug) for slug in ("a", "b")]
    publisher = account.publisher()
    publisher.run([posts.load_post(files[0], account.root)])
    account.sandbox.control("revoke-tokens")
    assert statuses(publisher.run([posts.load_post(files[1], account.root)])) == ["published"]
    assert len(account.articles()) == 2


def test_busy_is_retried_with_backoff(account: Account) -> None:
    file = post_with_images(account, "a", [])
    account.fault(endpoint="draft/add", errcode=-1, count=2)
    assert statuses(account.publish(file)) == ["published"]
    assert len(account.articles()) == 1


def test_quota_exhausted_is_explained_and_the_next_day_publishes_once(account: Account) -> None:
    file = post_with_images(account, "a", [])
    account.fault(endpoint="freepublish/submit", errcode=45009)
    outcome = account.publish(file)[0]
    assert outcome.status == "failed" and "今天的接口调用次数已用完（45009）" in outcome.message
    assert account.articles() == []
    assert statuses(account.publish(file)) == ["published"]
    assert len(account.articles()) == 1 and account.drafts() == {}


def test_lost_draft_answer_is_reconciled_without_a_second_draft(account: Account) -> None:
    file = post_with_images(account, "a", [])
    account.fault(endpoint="draft/add", drop="after")
    outcome = account.publish(file)[0]
    assert outcome.status == "failed" and "连接中断" in outcome.message
    assert len(account.drafts()) == 1
    assert statuses(account.publish(file)) == ["published"]
    assert account.writes().count("draft/add") == 1 and len(account.articles()) == 1


def test_lost_submit_answer_is_reconciled_without_a_second_article(account: Account) -> None:
    file = post_with_images(account, "a", [])
    account.fault(endpoint="freepublish/submit", drop="after")
    outcome = account.publish(file)[0]
    assert outcome.status == "published"  # the draft was gone: WeChat took it, found among the published
    assert account.writes().count("freepublish/submit") == 1 and len(account.articles()) == 1
    assert statuses(account.publish(file)) == ["skipped"]


def test_connection_dropped_before_submit_is_retried_once(account: Account) -> None:
    file = post_with_images(account, "a", [])
    account.fault(endpoint="freepublish/submit", drop="before")
    assert statuses(account.publish(file)) == ["published"]
    assert len(account.articles()) == 1


@pytest.mark.parametrize(("status", "reason"), [(2, "原创声明失败"), (3, "发布失败（状态 3）"), (4, "平台审核不通过")])
def test_failed_publish_statuses(account: Account, status: int, reason: str) -> None:
    file = post_with_images(account, "a", [])
    account.sandbox.control("publish-outcomes", {"statuses": [status]})
    outcome = account.publish(file)[0]
    assert outcome.status == "failed" and reason in outcome.message and account.articles() == []
    again = account.publish(file)[0]
    assert again.status == "failed" and "用 --retry-failed 重试" in again.message
    assert statuses(account.publish(file, retry_failed=True)) == ["published"]
    assert len(account.articles()) == 1


def test_still_publishing_is_picked_up_by_the_next_run(account: Account) -> None:
    file = post_with_images(account, "a", [])
    account.sandbox.state.data["publish_seconds"] = 3600
    assert statuses(account.publish(file)) == ["publishing"]
    account.sandbox.state.data["jobs"][next(iter(account.sandbox.state.data["jobs"]))]["done_at"] = 0
    assert statuses(account.publish(file)) == ["published"]
    assert account.writes().count("freepublish/submit") == 1 and len(account.articles()) == 1


def test_concurrent_publishers_produce_one_article(account: Account) -> None:
    file = post_with_images(account, "a", [])
    account.commit()
    results: dict[str, list] = {}

    def run(name: str) -> None:  # two CI runners: their own clone of the ledger, their own run id
        publisher = account.publisher(workdir=account.tmp_path / f"ledger-{name}", run=f"run-{name}")
        results[name] = publisher.run([posts.load_post(file, account.root)])

    threads = [threading.Thread(target=run, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(account.articles()) == 1
    assert account.writes().count("freepublish/submit") == 1
    assert sorted(outcome.status for name in results for outcome in results[name]) in (
        ["busy", "published"], ["published", "skipped"])


def test_scheduled_post_waits_for_its_time(account: Account) -> None:
    file = write_post(account.root, meta=front_matter(publish_at="2026-12-01 09:00"))
    early = dt.datetime(2026, 11, 30, 12, 0, tzinfo=BEIJING)
    outcome = account.publish(file, now=lambda: early)[0]
    assert outcome.status == "scheduled" and "2026-12-01 09:00" in outcome.message and account.writes() == []
    late = dt.datetime(2026, 12, 1, 9, 1, tzinfo=BEIJING)
    assert statuses(account.publish(file, now=lambda: late)) == ["published"]


def test_draft_mode_stops_at_the_draft_box(account: Account) -> None:
    file = write_post(account.root, meta=front_matter(mode="draft"))
    assert statuses(account.publish(file)) == ["draft"]
    assert len(account.drafts()) == 1 and account.articles() == []
    assert statuses(account.publish(file)) == ["draft"] and len(account.drafts()) == 1  # reused, not duplicated


def test_mass_send_respects_the_daily_quota(account: Account) -> None:
    first = write_post(account.root, slug="a", meta=front_matter(mode="mass", title="群发一"))
    second = write_post(account.root, slug="b", meta=front_matter(mode="mass", title="群发二"))
    outcomes = account.publish(first, second)
    assert statuses(outcomes) == ["mass", "draft"] and "群发次数（1 次）已用完" in outcomes[1].message
    assert account.writes().count("message/mass/sendall") == 1


def test_lost_mass_send_answer_is_not_sent_twice(account: Account) -> None:
    file = write_post(account.root, meta=front_matter(mode="mass"))
    account.fault(endpoint="message/mass/sendall", drop="after")
    assert account.publish(file)[0].status == "failed"
    outcome = account.publish(file)[0]
    assert outcome.status == "mass" and "24 小时内已群发过" in outcome.message
    assert len(account.sandbox.state.data["mass"]) == 1


def test_dry_run_plans_without_calling(account: Account) -> None:
    file = post_with_images(account, "a", ["one.png"])
    outcome = account.publish(file, dry_run=True)[0]
    assert outcome.status == "planned"
    assert outcome.calls == ("media/uploadimg", "material/add_material", "draft/add", "freepublish/submit", "freepublish/get")
    assert account.sandbox.calls() == [] and account.publisher().ledger.events == []


def test_published_post_is_immutable(account: Account) -> None:
    file = write_post(account.root)
    account.publish(file)
    file.write_text(file.read_text("utf-8") + "\n补充一句。\n", "utf-8")
    outcome = account.publish(file)[0]
    assert outcome.status == "refused" and "发布后不能修改" in outcome.message and len(account.articles()) == 1


def test_post_failing_checks_is_not_published(account: Account) -> None:
    file = write_post(account.root, "身份证号11010519491231002X。\n")
    outcome = account.publish(file)[0]
    assert outcome.status == "refused" and "未通过发布前检查（1 个错误）" in outcome.message
    assert account.sandbox.calls() == []


def test_large_png_is_compressed_and_gif_goes_to_material(account: Account) -> None:
    from PIL import Image

    file = write_post(account.root, "![大图](big.png)\n\n![动图](anim.gif)\n")
    import os

    Image.frombytes("RGB", (1400, 1000), os.urandom(1400 * 1000 * 3)).save(file.parent / "big.png")
    assert (file.parent / "big.png").stat().st_size > 1024 * 1024
    write_image(file.parent / "anim.gif", fmt="GIF")
    assert statuses(account.publish(file)) == ["published"]
    uploads = [event.data["uploads"] for event in account.publisher().ledger.events if event.kind == "upload"][0]
    assert [item["via_material"] for item in uploads] == [False, True, True]
    images = account.sandbox.state.data["images"].values()
    assert all(image["size"] < 1024 * 1024 for image in images if image["kind"] == "uploadimg")


def test_ledger_records_every_step_in_order(account: Account) -> None:
    file = write_post(account.root)
    account.publish(file)
    events = account.publisher().ledger.events
    kinds = [(event.kind, event.phase) for event in events]
    assert kinds == [("claim", ""), ("upload", "result"), ("draft", "intent"), ("draft", "result"),
                     ("submit", "intent"), ("submit", "result"), ("publish", "result"), ("release", "")]
    state = fold(events)["content/office/2026-11-28-meeting"]
    assert state.status == "published" and state.url.startswith(account.sandbox.url) and len(state.content_sha256) == 64


@pytest.mark.parametrize("body, cover", [
    ("正文[^1]。\n\n[^1]: ![x](../../../../outside/secret.jpg)\n", None),  # an image inside a footnote
    ("正文。\n\n![x][ref]\n\n[ref]: ../../../../outside/secret.jpg\n", None),  # a reference definition
    ("正文。\n", "../../../../outside/secret.jpg"),
    ("正文。\n", "link.jpg"),
])
def test_no_outside_file_is_ever_uploaded(account: Account, body: str, cover: str | None) -> None:
    secret = write_image(account.tmp_path / "outside" / "secret.jpg", fmt="JPEG")
    file = write_post(account.root, body, meta=front_matter(cover=cover))
    os.symlink(secret, file.parent / "link.jpg")
    outcome = account.publish(file)[0]
    assert outcome.status == "refused" and "未通过发布前检查" in outcome.message
    assert account.writes() == []


def test_publishing_reads_images_only_through_the_resolver(account: Account, monkeypatch) -> None:
    """Even with the checks bypassed, publishing refuses a file outside the post: defence in depth."""
    from pipeline.publish.selection import Selector

    write_image(account.tmp_path / "outside" / "secret.jpg", fmt="JPEG")
    file = write_post(account.root, "正文[^1]。\n\n[^1]: ![x](../../../../outside/secret.jpg)\n")
    monkeypatch.setattr(Selector, "_check_errors", lambda self, post: [])
    outcome = account.publish(file)[0]
    assert outcome.status == "refused" and "在文章文件夹之外" in outcome.message
    assert account.writes() == []


def test_a_linked_post_file_is_never_published(account: Account) -> None:
    secret = write_post(account.tmp_path / "outside", "仓库外的文件。\n")
    folder = account.root / "content" / "office" / "linked"
    folder.mkdir(parents=True)
    os.symlink(secret, folder / "index.md")
    outcome = account.publish(folder / "index.md")[0]
    assert outcome.status == "refused" and account.writes() == []


@pytest.mark.parametrize("drop", ["before", "after"])
def test_an_interrupted_draft_update_never_publishes_the_old_text(account: Account, drop: str) -> None:
    """D4: the rerun used to find the old draft by title and cover and publish the old text."""
    file = post_with_images(account, "a", [])
    assert statuses(account.publish(file, mode_override="draft")) == ["draft"]
    file.write_text(file.read_text("utf-8").replace("正文第一段。", "更正后的第一段。"), "utf-8")
    account.fault(endpoint="draft/update", drop=drop)  # before: not applied; after: applied, answer lost
    assert statuses(account.publish(file)) == ["failed"]
    assert statuses(account.publish(file)) == ["published"]
    (article,) = account.articles()
    content = article["news_item"][0]["content"]
    assert "更正后的第一段" in content and "正文第一段" not in content
    assert account.drafts() == {} and account.writes().count("draft/add") == 1


def test_a_lost_submit_is_matched_by_content_not_title(account: Account) -> None:
    """D5: a second post with the same title was recorded with the first post's URL."""
    first = post_with_images(account, "a", [], title="同名的两篇文章")
    assert statuses(account.publish(first)) == ["published"]
    second = write_post(account.root, "另一篇文章的正文。\n", slug="b", meta=front_matter(title="同名的两篇文章"))
    account.fault(endpoint="freepublish/submit", drop="after")
    outcome = account.publish(second)[0]
    assert outcome.status == "published" and len(account.articles()) == 2
    assert outcome.url != account.publish(first)[0].url


def test_a_dry_run_plans_each_upload_once_across_posts(account: Account) -> None:
    """The plan used to count a cover that an earlier post of the same run would already upload."""
    first = post_with_images(account, "a", [], title="第一篇")
    second = post_with_images(account, "b", [], title="第二篇")  # both fall back to the default cover
    plans = [outcome.calls for outcome in account.publish(first, second, dry_run=True)]
    assert plans[0][0] == "material/add_material" and "material/add_material" not in plans[1]
    real = account.publish(first, second)
    assert statuses(real) == ["published", "published"]
    assert account.writes().count("material/add_material") == sum(plan.count("material/add_material") for plan in plans)


def test_a_removed_post_comes_back_only_with_its_correction_note_and_never_as_a_mass_send(account: Account) -> None:
    from pipeline.ledger import Event, Kind

    file = write_post(account.root, "正文第一段。\n", slug="a", meta=front_matter(title="停车场临时关闭的通知", mode="mass"))
    assert statuses(account.publish(file, mode_override="publish")) == ["published"]
    publisher = account.publisher()
    first = fold(publisher.ledger.events)["content/office/a"]
    account.sandbox.control("article", {"article_id": first.article_id, "do": "delete"})
    publisher.ledger.append(Event(Kind.TAKEDOWN, "content/office/a", data={"article_id": first.article_id, "reason": "通知已过期",
                                                                        "routine": True}))
    refused = account.publish(file)[0]
    assert refused.status == "refused" and "不会自动重新发布" in refused.message and account.articles() == []
    note = "更正说明：本文于 2026-11-20 首次发布，因停车场开放时间调整于 2026-11-28 重新发布。"
    assert statuses(account.publish(file, corrections={"content/office/a": note})) == ["published"]
    (article,) = account.articles()
    assert article["news_item"][0]["content"].startswith("<section style=") and note in article["news_item"][0]["content"]
    assert "message/mass/sendall" not in account.writes()  # restored where it was, not pushed to every follower again
    state = fold(account.publisher().ledger.events)["content/office/a"]
    assert state.url != first.url and state.previous_url == first.url and state.correction == note
