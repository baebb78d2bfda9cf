"""Secrecy referrals replayed from the label history and what people said (pipeline.referrals)."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pytest

from pipeline import referrals
from pipeline.referrals import LabelEvent, Said, standing

LABEL = "需保密办复审"
OFFICE, HEAD, AUTHOR, BOT = "wu-fang", "li-na", "zhang-wei", "gzh-bot"


def at(minute: int) -> str:
    return f"2026-11-28T10:{minute:02}:00Z"


def replay(events: Sequence[LabelEvent] = (), said: Sequence[Said] = (), labels: tuple[str, ...] = (LABEL,),
           author: str = AUTHOR) -> referrals.Referrals:
    return standing(LABEL, labels, [OFFICE], [HEAD, OFFICE], events, said, bot=BOT, author=author)


def test_only_the_referrer_or_the_office_withdraws_and_others_leave_a_note() -> None:
    added = LabelEvent(HEAD, LABEL, True, at(1))
    by_author = replay([added, LabelEvent(AUTHOR, LABEL, False, at(2))], labels=())
    assert by_author.reasons == ("@li-na 加了标签“需保密办复审”",)
    assert by_author.notes == ("@zhang-wei 移除了标签“需保密办复审”，但保密办复审请求只能由提出人或保密委员会办公室撤回，此移除不计",)
    assert replay([added, LabelEvent(HEAD, LABEL, False, at(2))], labels=()).reasons == ()
    assert replay([added, LabelEvent(OFFICE, LABEL, False, at(2))], labels=()).reasons == ()


def test_the_author_never_withdraws_even_as_a_member_of_the_office() -> None:
    said = [Said(HEAD, "/保密复审", at(1)), Said(OFFICE, "/撤回保密复审", at(2))]
    result = replay(said=said, labels=(), author=OFFICE)
    assert result.reasons == ("@li-na 请求保密办复审",)
    assert result.notes == ("@wu-fang 要求撤回保密办复审，但只有提出人或保密委员会办公室可以撤回，此撤回不计",)


def test_full_width_slash_commands_and_quotes() -> None:
    assert replay(said=[Said(HEAD, "会议时间拿不准，／保密复审", at(1))], labels=()).reasons == ("@li-na 请求保密办复审",)
    withdrawn = [Said(HEAD, "/保密复审", at(1)), Said(HEAD, "／撤回保密复审", at(2))]
    assert replay(said=withdrawn, labels=()).reasons == ()
    assert not referrals.carries_command("> @li-na 说：/保密复审\n我看可以公开。")  # a quote gives no command
    assert replay(said=[Said(AUTHOR, "/保密复审", at(1))], labels=()).reasons == ()  # not a head or the office


def test_edited_text_and_review_bodies_refer_but_never_withdraw() -> None:
    review = Said(OFFICE, "/撤回保密复审", at(2), edited=True)  # the gate reads every review body as edited
    result = replay(said=[Said(HEAD, "/保密复审", at(1), edited=True), review], labels=())
    assert result.reasons == ("@li-na 请求保密办复审",) and result.notes == ()


def test_the_gates_label_survives_a_withdrawal_comment_but_not_the_office_removing_it() -> None:
    events = [LabelEvent(HEAD, LABEL, True, at(1)), LabelEvent(BOT, LABEL, True, at(2))]
    kept = replay(events, [Said(OFFICE, "/撤回保密复审", at(3))])
    assert kept.reasons == ("gzh 已登记保密办复审请求（标签“需保密办复审”，只有保密委员会办公室可以撤回）",)
    assert kept.recorded is True
    removed = replay(events + [LabelEvent(OFFICE, LABEL, False, at(3))], labels=())
    assert removed == referrals.Referrals((), (), False)
    assert replay().reasons == ("拉取请求带有标签“需保密办复审”",)  # no history left: the label alone refers


def test_received_comments_round_trip_and_a_torn_line_is_skipped(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(referrals.RECEIVED_ENV, str(tmp_path))
    assert referrals.received(7) == []
    referrals.record_received(tmp_path, 7, Said(HEAD, "/保密复审", at(1)))
    with (tmp_path / "7.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"user": "li-na", "bo')
    assert referrals.received(7) == [Said(HEAD, "/保密复审", at(1))]
    assert referrals.received(8) == []
