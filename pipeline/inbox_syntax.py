"""The commands a department writes on its inbox issue (Art. 8), read from the start of a comment (pure).

Shared by the inbox job, which acts on them (pipeline/answers.py), and the trusted service, which
queues that job when a webhook carries one (pipeline/webhooks.py) and must stay light to import.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

REPLY, DONE, HIDE, DELETE = "reply", "done", "hide", "delete"
VERBS = {"答复": REPLY, "已处理": DONE, "隐藏": HIDE, "删除": DELETE}
# A half- or full-width slash, the word, then the number (a # and full-width digits allowed) and the text.
_COMMAND = re.compile(r"\s*[/／](答复|已处理|隐藏|删除)(?![^\s#＃0-9０-９])\s*[#＃]?([0-9０-９]+)?(.*)", re.S)


@dataclass(frozen=True)
class Command:
    verb: str               # REPLY, DONE, HIDE or DELETE
    word: str               # as written: 答复, 已处理, 隐藏, 删除
    number: int | None
    text: str


def parse(body: str) -> Command | None:
    """The command a comment opens with, or None (a comment that is not one is left alone)."""
    match = _COMMAND.match(body)
    if match is None:
        return None
    word, number, text = match.groups()
    return Command(VERBS[word], word, int(number) if number else None, text.strip())  # int() reads full-width digits
