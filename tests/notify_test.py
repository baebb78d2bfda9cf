"""Group robot notifications (pipeline/notify.py) through real HTTP to the loopback fakes of WeCom and DingTalk."""
from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import pytest
import yaml

from pipeline import notify
from pipeline.errors import ConfigError
from pipeline.ledger import SANDBOX_BRANCH, Kind, Ledger
from pipeline.notify import Notice
from pipeline.policy import parse_policy
from pipeline.redact import redact
from tests.notify_fake import (LEADERS_SECRET, LEADERS_TOKEN, NOTIFICATIONS, OFFICE_KEY, POLICY_WITH_NOTIFICATIONS,
                               RIGHTS_KEY, RobotFake, robots)
from tests.support import POLICY_TEXT, PROJECT, init_git, line_of, make_root

__all__ = ["robots"]  # the fixture, imported for pytest

POLICY = parse_policy(POLICY_WITH_NOTIFICATIONS, "gzh.yml")
NOTICE = Notice("test:1", "读者留言待答复", ("读者在《文章》下留言：", "> 报名表在哪里下载？"),
                link="https://mp.weixin.qq.com/s/abc", due="2026-12-04")


def problems_of(text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_policy(text, "gzh.yml")
    return str(caught.value)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    root = make_root(tmp_path)
    init_git(root)
    return Ledger(root, branch=SANDBOX_BRANCH)


def test_a_department_is_told_in_its_wecom_group(robots: RobotFake) -> None:
    assert notify.notify(POLICY, NOTICE, departments=("office",)) == []
    (text,) = robots.texts(OFFICE_KEY)
    assert text.startswith("**读者留言待答复**\n读者在《文章》下留言：\n> 报名表在哪里下载？")
    assert "**办理期限：2026-12-04**" in text and "[查看详情](https://mp.weixin.qq.com/s/abc)" in text
    assert robots.texts(RIGHTS_KEY) == [] and robots.texts(LEADERS_TOKEN) == []


def test_the_management_group_is_told_through_a_signed_dingtalk_robot(robots: RobotFake) -> None:
    assert notify.notify(POLICY, NOTICE, management=True) == []
    (message,) = robots.robots[LEADERS_TOKEN].messages
    assert message["msgtype"] == "markdown" and message["markdown"]["title"] == "读者留言待答复"
    assert message["markdown"]["text"].startswith("#### 读者留言待答复\n\n读者在《文章》下留言：\n\n")


def test_each_channel_is_told_once_and_recipients_without_one_are_warned(robots: RobotFake) -> None:
    warnings = notify.notify(POLICY, NOTICE, departments=("office", "women"), people=("sun-hao", "wang-jun", "li-na"),
                             management=True)
    assert len(robots.texts(OFFICE_KEY)) == 1 and len(robots.texts(LEADERS_TOKEN)) == 1  # sun-hao's is the office's
    assert warnings == ["女职工部没有配置通知群（gzh.yml 的 notifications.departments），“读者留言待答复”没有发到群里",
                        "李娜（@li-na）没有配置通知群（gzh.yml 的 notifications.people），“读者留言待答复”没有发到群里"]


def test_a_wrong_signing_secret_is_refused(robots: RobotFake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GZH_NOTIFY_3_SIGN", "SEC" + "0" * 64)
    (warning,) = notify.notify(POLICY, NOTICE, management=True)
    assert warning.startswith("通知群“leaders”没有收到“读者留言待答复”：钉钉拒绝了这条消息（错误码 310000）：签名不对或时间戳超出 1 小时")
    assert robots.robots[LEADERS_TOKEN].messages == []


def test_a_timestamp_an_hour_off_dingtalk_s_clock_is_refused(robots: RobotFake) -> None:
    robots.skew = 3601
    assert "错误码 310000" in notify.notify(POLICY, NOTICE, management=True)[0]
    robots.skew = 3500
    assert notify.notify(POLICY, NOTICE, management=True) == []


def test_the_signature_is_dingtalk_s() -> None:
    """HmacSHA256 of "timestamp\\nsecret" keyed with the secret, then base64 (requests percent-encodes it)."""
    expected = base64.b64encode(hmac.new(b"SECabc", b"1700000000000\nSECabc", hashlib.sha256).digest()).decode()
    assert notify.sign("SECabc", 1700000000000) == {"timestamp": "1700000000000", "sign": expected}


def test_a_wrong_key_or_token_is_reported_with_the_errcode(robots: RobotFake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GZH_NOTIFY_1", "00000000-0000-0000-0000-000000000000")
    monkeypatch.setenv("GZH_NOTIFY_3", "0" * 64)
    office, leaders = notify.notify(POLICY, NOTICE, departments=("office",), management=True)
    assert "企业微信拒绝了这条消息（错误码 93000）：机器人的 key 无效" in office
    assert "钉钉拒绝了这条消息（错误码 300001）：access_token 不存在" in leaders


def test_the_whole_webhook_address_may_be_stored_instead_of_the_key(robots: RobotFake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GZH_NOTIFY_1", f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={OFFICE_KEY}")
    assert notify.notify(POLICY, NOTICE, departments=("office",)) == []
    assert len(robots.texts(OFFICE_KEY)) == 1  # only the key was taken: the message went to the configured base


@pytest.mark.parametrize(("channel", "robot", "errcode"), [("office", OFFICE_KEY, 45009), ("", LEADERS_TOKEN, 130101)])
def test_twenty_messages_a_minute_then_rate_limited(robots: RobotFake, channel: str, robot: str, errcode: int) -> None:
    def send(number: int) -> list[str]:
        notice = Notice(f"rate:{number}", f"第 {number} 条", ("正文",))
        return notify.notify(POLICY, notice, departments=(channel,) if channel else (), management=not channel)

    assert all(send(number) == [] for number in range(20))
    (warning,) = send(20)
    assert f"（错误码 {errcode}）：发送太频繁（每个机器人每分钟最多 20 条），下次运行时补发" in warning
    robots.skew = 61
    if robot == LEADERS_TOKEN:  # DingTalk throttles for ten minutes, not one
        assert send(21) != []
        robots.skew = 601
    assert send(22) == [] and len(robots.robots[robot].messages) == 21


def test_with_a_ledger_a_notice_goes_to_each_channel_once_and_is_recorded(robots: RobotFake, ledger: Ledger) -> None:
    assert notify.notify(POLICY, NOTICE, departments=("office",), ledger=ledger) == []
    assert notify.notify(POLICY, NOTICE, departments=("office", "rights"), management=True, ledger=ledger) == []
    assert notify.notify(POLICY, NOTICE, departments=("office", "rights"), management=True, ledger=ledger) == []
    assert [len(robots.texts(key)) for key in (OFFICE_KEY, RIGHTS_KEY, LEADERS_TOKEN)] == [1, 1, 1]
    recorded = [event.data for event in ledger.events if event.kind is Kind.NOTICE]
    assert [(data["key"], data["channel"], data["service"]) for data in recorded] == [
        ("test:1", "office-group", "wecom"), ("test:1", "rights-group", "wecom"), ("test:1", "leaders", "dingtalk")]


def test_with_a_ledger_gzh_itself_keeps_a_channel_under_twenty_a_minute(robots: RobotFake, ledger: Ledger) -> None:
    for number in range(20):
        assert notify.notify(POLICY, Notice(f"pace:{number}", "通知", ("正文",)), departments=("office",), ledger=ledger) == []
    asked = robots.requests
    (warning,) = notify.notify(POLICY, Notice("pace:20", "第 21 条", ("正文",)), departments=("office",), ledger=ledger)
    assert robots.requests == asked  # not even asked: the next run sends it
    assert warning == "通知群“office-group”最近一分钟已发 20 条（机器人每分钟最多 20 条），“第 21 条”留到下次运行时发送"


def test_personal_data_and_secrets_are_masked_and_outsiders_cannot_write_markup(robots: RobotFake) -> None:
    follower = notify.plain("请回电13912345678，[点此领奖](http://evil.example) <@all>")
    notice = Notice("mask", "留言", (f"> {follower}", "身份证 321002198605142138", f"key={OFFICE_KEY}"))
    assert notify.notify(POLICY, notice, departments=("office",)) == []
    (text,) = robots.texts(OFFICE_KEY)
    assert "139****5678" in text and "321***********2138" in text and OFFICE_KEY not in text
    assert "［点此领奖］（http://evil.example）" in text and "＜@all＞" in text and "[点此领奖]" not in text


def test_the_robots_keys_are_secrets_everywhere(robots: RobotFake) -> None:
    assert redact(f"地址 https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={OFFICE_KEY}") == (
        "地址 https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***")
    assert LEADERS_SECRET not in redact(f"加签 {LEADERS_SECRET}")


@pytest.mark.parametrize("service", ["wecom", "dingtalk"])
def test_long_notices_are_cut_to_the_service_s_byte_limit(robots: RobotFake, service: str) -> None:
    notice = Notice(f"long:{service}", "很长的通知", ("留言内容" * 3000,), link="https://forge.example/issues/1", due="2026-12-04")
    assert notify.notify(POLICY, notice, departments=("office",) if service == "wecom" else (),
                         management=service == "dingtalk") == []
    (text,) = robots.texts(OFFICE_KEY if service == "wecom" else LEADERS_TOKEN)
    assert len(text.encode("utf-8")) <= notify.SERVICES[service].limit
    assert "…" in text and text.endswith("[查看详情](https://forge.example/issues/1)" + ("\n" if service == "wecom" else "\n\n")
                                         + "（gzh 公众号发布流水线）")


def test_a_missing_variable_is_a_warning_and_the_other_channels_still_hear(robots: RobotFake,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GZH_NOTIFY_1")
    (warning,) = notify.notify(POLICY, NOTICE, departments=("office", "rights"))
    assert warning.startswith("通知群“office-group”没有收到“读者留言待答复”：环境变量 GZH_NOTIFY_1 没有设置")
    assert len(robots.texts(RIGHTS_KEY)) == 1


def test_5xx_and_network_errors_are_retried_a_4xx_never(robots: RobotFake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(notify, "BACKOFF", 0.0)
    robots.faults = [502]
    assert notify.notify(POLICY, NOTICE, departments=("office",)) == [] and robots.requests == 2
    robots.faults = [503, 503, 503]
    assert "企业微信返回 HTTP 503" in notify.notify(POLICY, NOTICE, departments=("office",))[0] and robots.requests == 5
    robots.faults = [403]
    assert "企业微信返回 HTTP 403" in notify.notify(POLICY, NOTICE, departments=("office",))[0] and robots.requests == 6
    monkeypatch.setenv("GZH_WECOM_BASE", "http://127.0.0.1:9/cgi-bin/webhook/")
    (warning,) = notify.notify(POLICY, NOTICE, departments=("office",))
    assert "无法连接企业微信（ConnectionError），已尝试 3 次" in warning and OFFICE_KEY not in warning


def test_without_a_notifications_section_nothing_is_sent(robots: RobotFake) -> None:
    assert notify.notify(parse_policy(POLICY_TEXT, "gzh.yml"), NOTICE, departments=("office",), management=True) == []
    assert robots.requests == 0


# --- the policy ---------------------------------------------------------------------------------

def test_the_shipped_example_is_the_tested_shape() -> None:
    """gzh.yml documents the section commented out; uncommented, it loads."""
    shipped = (PROJECT / "gzh.yml").read_text("utf-8")
    block = shipped[shipped.index("# notifications:"):shipped.index("# 排版")].strip()
    example = "\n".join(line[2:] for line in block.splitlines())
    settings = parse_policy(POLICY_TEXT + "\n" + example + "\n", "gzh.yml").notifications
    assert settings is not None and settings.channels["leaders"].sign == "GZH_NOTIFY_3_SIGN"
    assert settings.departments["rights"] == "rights-group" and settings.management == "leaders"
    assert parse_policy(POLICY_TEXT, "gzh.yml").notifications is None


def test_a_channel_may_not_point_at_another_secret() -> None:
    text = POLICY_TEXT + NOTIFICATIONS.replace("key: GZH_NOTIFY_2}", "key: WECHAT_SECRET}")
    line = line_of(text, "key: WECHAT_SECRET")
    column = text.splitlines()[line - 1].index("WECHAT_SECRET") + 1
    assert problems_of(text).splitlines()[1].startswith(
        f"  gzh.yml:{line}:{column}: notifications.channels.rights-group.key：“WECHAT_SECRET”格式不对。"
        "写保存机器人密钥的环境变量（CI 密钥）的名字，必须以 GZH_NOTIFY_ 开头")


def test_unknown_channels_departments_and_people_are_reported_where_written() -> None:
    text = POLICY_TEXT + (NOTIFICATIONS.replace("    rights: rights-group", "    rightz: rights-group")
                          .replace("    wang-jun: leaders", "    wang-jum: leaders").replace("management: leaders", "management: leaderz")
                          .replace("office: office-group", "office: office-grop"))
    assert problems_of(text).splitlines()[1:] == [
        f"  gzh.yml:{line_of(text, 'office: office-grop')}:13: notifications.departments.office：通知群“office-grop”"
        "没有在 notifications.channels 中定义。请改为已定义的通知群之一：leaders、office-group、rights-group",
        f"  gzh.yml:{line_of(text, 'rightz:')}:5: notifications.departments.rightz：部门“rightz”不存在，请改为 departments 中的"
        "部门编号之一：economy、grassroots、office、organization、publicity、rights、women",
        f"  gzh.yml:{line_of(text, 'wang-jum:')}:5: notifications.people.wang-jum：“wang-jum”不在 people 名册中。"
        "请先在 people 下登记此人（姓名、职务），或检查用户名是否拼错",
        f"  gzh.yml:{line_of(text, 'management: leaderz')}:15: notifications.management：通知群“leaderz”没有在 "
        "notifications.channels 中定义。请改为已定义的通知群之一：leaders、office-group、rights-group",
    ]


def test_only_dingtalk_channels_have_a_signing_secret() -> None:
    text = POLICY_TEXT + NOTIFICATIONS.replace("key: GZH_NOTIFY_1}", "key: GZH_NOTIFY_1, sign: GZH_NOTIFY_1_SIGN}")
    assert "notifications.channels.office-group.sign：只有钉钉（dingtalk）机器人有加签密钥 sign" in problems_of(text)


def test_the_workflows_pass_exactly_the_documented_variables() -> None:
    for name in ("patrol.yml", "inbox.yml", "emergency.yml", "gate.yml", "submission.yml"):
        workflow = yaml.safe_load((PROJECT / ".github" / "workflows" / name).read_text("utf-8"))
        (step,) = [step for step in next(iter(workflow["jobs"].values()))["steps"]
                   if any(key.startswith("GZH_NOTIFY_") for key in step.get("env", {}))]
        passed = {key: value for key, value in step["env"].items() if key.startswith("GZH_NOTIFY_")}
        assert passed == {key: f"${{{{ secrets.{key} }}}}" for key in notify.WORKFLOW_VARIABLES}, name
    guide = (PROJECT / "docs" / "notifications.md").read_text("utf-8")
    assert "GZH_NOTIFY_1" in guide and "GZH_NOTIFY_8_SIGN" in guide

