"""Secrecy referrals (Art. 6(3)): who asked for the secrecy office's review, and whether it stands.

A referral, once made, stands until the secrecy office approves; only the person who made it, or
the secrecy office, can withdraw it. The facts are the forge's append-only records, never just the
current state that anyone with write access can change:

- the label history (GitHub issue events, Gitea's issue timeline): an `added` by anyone refers the
  pull request; a removal counts only by the person who added it or by the secrecy office;
- comments and review bodies saying `/保密复审` by a department head of the post or the secrecy
  office; `/撤回保密复审` in an unedited comment by the same person or the secrecy office withdraws;
- the checks' findings and the post's own pre-review record (passed in by the gate).

Whenever a referral stands and the label is missing, the gate puts the label back itself, so a
referral made by a comment survives that comment being deleted or edited later.
"""
from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from pipeline.approval import moment
from pipeline.i18n import Text

GATE_MARKER = "<!-- gzh-gate -->"  # the gate's own sticky comment, which quotes the commands in its footer
REFER_COMMANDS = ("/保密复审", "/secrecy-review")
WITHDRAW_COMMANDS = ("/撤回保密复审", "/withdraw-secrecy-review")

_BY_LABEL = Text("@{user} 加了标签“{label}”", "@{user} added the label '{label}'")
_BY_COMMENT = Text("@{user} 请求保密办复审", "@{user} asked for the secrecy office's review")
_RECORDED = Text("gzh 已登记保密办复审请求（标签“{label}”，只有保密委员会办公室可以撤回）",
                 "gzh recorded the referral (label '{label}'; only the secrecy office can withdraw it)")
_LABEL_ONLY = Text("拉取请求带有标签“{label}”", "the pull request carries the label '{label}'")
_IGNORED_REMOVAL = Text("@{user} 移除了标签“{label}”，但保密办复审请求只能由提出人或保密委员会办公室撤回，此移除不计",
                        "@{user} removed the label '{label}', but only whoever made the referral or the secrecy "
                        "office can withdraw it; the removal does not count")
_IGNORED_WITHDRAWAL = Text("@{user} 要求撤回保密办复审，但只有提出人或保密委员会办公室可以撤回，此撤回不计",
                           "@{user} asked to withdraw the referral, but only whoever made it or the secrecy office can")


@dataclass(frozen=True)
class Comment:
    """An issue or pull request comment, normalised across forges."""

    id: int
    user: str               # "" for a deleted account
    body: str
    created_at: str = ""
    edited: bool = False    # changed after it was written (possibly by someone else)


@dataclass(frozen=True)
class LabelEvent:
    """One entry of a pull request's label history."""

    actor: str
    label: str
    added: bool
    created_at: str


@dataclass(frozen=True)
class Said:
    """A review body or comment, in the order it was written."""

    user: str
    body: str
    at: str
    edited: bool = False


@dataclass(frozen=True)
class Referrals:
    reasons: tuple[str, ...]        # who referred and how, in Chinese, for the comment
    notes: tuple[str, ...]          # removals and withdrawals that did not count
    recorded: bool = False          # the gate itself holds the label: the referral survives any comment's fate


def standing(label: str, current_labels: Iterable[str], office: Iterable[str], referrers: Iterable[str],
             events: Sequence[LabelEvent], said: Sequence[Said], *, bot: str = "", author: str = "") -> Referrals:
    """The referrals by people that stand after replaying the label history and what people said.

    `bot` is the gate's own login: its label is the lasting record. The pull request's `author`
    never withdraws anything, even as a member of the secrecy office: nobody clears their own post.
    """
    office, referrers = set(office) - {author}, set(referrers)
    holders: dict[str, str] = {}    # who referred -> how (the reason text)
    notes: list[str] = []
    for _, kind, user in _timeline(label, events, said):
        if kind == "refer-label":
            holders.setdefault(user, _RECORDED(label=label) if user == bot else _BY_LABEL(user=user, label=label))
        elif kind == "refer-comment" and user in referrers:
            holders.setdefault(user, _BY_COMMENT(user=user))
        elif kind in ("unlabel", "withdraw") and holders and user != bot:
            if user in office:  # a comment clears the people's referrals; only removing the label clears gzh's record
                recorded = holders.get(bot) if kind == "withdraw" and bot else None
                holders.clear()
                if recorded:
                    holders[bot] = recorded
            elif user in holders:
                del holders[user]
            else:
                notes.append((_IGNORED_REMOVAL(user=user, label=label) if kind == "unlabel"
                              else _IGNORED_WITHDRAWAL(user=user)))
    present = label in current_labels
    reasons = list(holders.values())
    if present and not reasons:
        reasons.append(_LABEL_ONLY(label=label))  # history unreadable or older than the forge keeps: still refer
    return Referrals(tuple(reasons), tuple(notes), present and bool(bot) and bot in holders)


def _timeline(label: str, events: Sequence[LabelEvent], said: Sequence[Said]) -> list[tuple[dt.datetime, str, str]]:
    timeline = [(moment(event.created_at), "refer-label" if event.added else "unlabel", event.actor)
                for event in events if event.label == label and event.actor]
    for item in said:
        command = _command(item.body) if item.user else None
        if command == "withdraw" and not item.edited:  # an edited comment may have been rewritten by someone else
            timeline.append((moment(item.at), "withdraw", item.user))
        elif command == "refer":
            timeline.append((moment(item.at), "refer-comment", item.user))
    return sorted(timeline, key=lambda entry: entry[0])


def _command(body: str) -> str | None:
    """"withdraw", "refer" or None: the command a comment gives, written with a full-width slash too,
    but not in a quote (a line starting with >)."""
    own = "\n".join(line for line in body.replace("／", "/").splitlines() if not line.lstrip().startswith(">"))
    if any(command in own for command in WITHDRAW_COMMANDS):
        return "withdraw"
    return "refer" if any(command in own for command in REFER_COMMANDS) else None


# -- what the trusted service received -------------------------------------------------------------------

RECEIVED_ENV = "GZH_RECEIVED_COMMENTS"  # the service's folder of comments as their webhooks carried them


def record_received(folder: Path, number: int, said: Said) -> None:
    """Keep a comment that carries a command exactly as the forge's signed webhook delivered it.

    Deleting or editing the comment later changes the forge's copy, never this one; the gate reads
    both (pipeline.gate), so a referral made while no gate ran yet still stands.
    """
    folder.mkdir(parents=True, exist_ok=True)
    entry = {"user": said.user, "body": said.body, "at": said.at}
    with (folder / f"{number}.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, ensure_ascii=False) + "\n")


def received(number: int) -> list[Said]:
    """The comments the service recorded for pull request `number` (none outside the service)."""
    folder = os.environ.get(RECEIVED_ENV, "")
    file = Path(folder) / f"{number}.jsonl" if folder else None
    if file is None or not file.is_file():
        return []
    said = []
    for line in file.read_text("utf-8").splitlines():
        try:
            entry = json.loads(line)
            said.append(Said(str(entry["user"]), str(entry["body"]), str(entry["at"])))
        except (ValueError, KeyError, TypeError):
            continue  # a torn last line after a crash
    return said


def carries_command(body: str) -> bool:
    return _command(body) is not None
