"""Personal data and credentials: found once, masked everywhere.

The check stage (`pipeline.checks.secrecy`) reports resident ID numbers, bank card numbers and
mobile numbers with the detectors below, and every output (reports, pull-request comments, the
ledger, logs, crash files) passes through `redact`, so that nothing the scan found, and no token or
secret, is ever printed in full.

Disguised numbers are found on a *normalised copy* of the text: full-width digits and letters (and
the few full-width signs that can sit in a number: + - * / < > [ ]) become ASCII, ideographic,
no-break and zero-width spaces become spaces and every kind of dash becomes "-". Each character maps
to exactly one character, so an offset into the copy is the same offset into the original. Digits
may then be split by up to three spaces, dashes or middle dots, or by one line break (also `<br>`
and a JSON-escaped `\\n`), which covers `3210 0219 9003 0712 34`, `321002-19900307-1234` and
`１３９　１２３４　５６７８`.

A number counts only as a whole: it starts and ends at a group boundary (no digit glued on either
side) and does not sit inside an alphanumeric token such as a commit hash or a media id. ID numbers
and bank card numbers must also pass their check digit, so dates, amounts and order numbers are left
alone. Every pattern is linear: repetitions are bounded, atomic or possessive, and one fast scan for
runs of digits decides where the detectors look at all.
"""
from __future__ import annotations

import bisect
import operator
import os
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Callable, Iterable, Iterator

__all__ = [
    "Number", "bank_cards", "is_bank_card", "is_resident_id", "mask", "mobiles", "normalise",
    "personal_numbers", "redact", "resident_ids",
]


# --- normalisation -----------------------------------------------------------------------------

def _translation() -> dict[str, str]:
    """What the detectors need folded; frequent Chinese punctuation (，：（）) is left as it is and
    the patterns accept both forms, so most texts need no copy at all."""
    table = {chr(code): chr(code - 0xFEE0) for code in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B),
                                                         *range(0xFF41, 0xFF5B), 0xFF0A, 0xFF0B, 0xFF0D,
                                                         0xFF0F, 0xFF1C, 0xFF1E, 0xFF3B, 0xFF3D)}
    table.update({chr(code): unicodedata.normalize("NFKC", chr(code)) for code in range(0x1D7CE, 0x1D800)})
    for code in (0x3000, 0x00A0, 0x1680, *range(0x2000, 0x200B), 0x202F, 0x205F,  # spaces
                 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x2060, 0xFEFF):          # zero-width, marks
        table[chr(code)] = " "
    for code in (*range(0x2010, 0x2016), 0x2212, 0x2E3A, 0x2E3B, 0xFE58, 0xFE63):  # dashes, minus
        table[chr(code)] = "-"
    table["\u30fb"] = "·"  # katakana middle dot
    assert all(len(folded) == 1 for folded in table.values())  # one for one: offsets stay put
    return table


def _character_class(chars: Iterable[str]) -> str:
    """A regular-expression class of exactly `chars`, as ranges (the engine scans those fast)."""
    codes, parts = sorted(map(ord, chars)), []
    while codes:
        first = last = codes.pop(0)
        while codes and codes[0] == last + 1:
            last = codes.pop(0)
        parts.append(re.escape(chr(first)) + ("-" + re.escape(chr(last)) if last > first else ""))
    return "[" + "".join(parts) + "]"


_TABLE = _translation()
_FOLDED = re.compile(_character_class(_TABLE))


@lru_cache(maxsize=4)
def normalise(text: str) -> str:
    """`text` with full-width digits, letters and digit separators folded to ASCII, and ideographic,
    no-break and zero-width spaces and all dashes unified to " " and "-".

    The result has the same length as `text`: offset i in one is offset i in the other.
    """
    if text.isascii() or not _FOLDED.search(text):
        return text
    return _FOLDED.sub(lambda match: _TABLE[match.group()], text)


# --- validators (never raise) -------------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_ZERO = ord("0") * sum(_ID_WEIGHTS)  # the weighted sum of the digits' character codes is off by this
_PROVINCES = frozenset(str(code) for code in (*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47),
                                              *range(50, 55), *range(61, 66), 71, 81, 82))


def is_resident_id(value: str, today: date | None = None) -> bool:
    """A GB 11643 resident ID: ISO 7064 MOD 11-2 check character, a real birth date (from 1900, not
    in the future) and a province code that exists. The county code is deliberately not checked:
    codes are created and retired, and a valid ID may carry one newer than its holder's birth."""
    try:
        value = value.upper()
        if len(value) != 18 or not value.isascii() or not value[:17].isdigit() or value[17] not in _ID_CHECK:
            return False
        if value[:2] not in _PROVINCES:
            return False
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
        if born.year < 1900 or born > (today or date.today()):
            return False
        total = sum(map(operator.mul, value[:17].encode(), _ID_WEIGHTS)) - _ID_ZERO
        return _ID_CHECK[total % 11] == value[17]
    except (ValueError, TypeError, IndexError, AttributeError):
        return False


def is_bank_card(value: str) -> bool:
    """16 to 19 digits passing the Luhn check."""
    if not isinstance(value, str) or not 16 <= len(value) <= 19 or not value.isascii() or not value.isdigit():
        return False
    codes = value.encode()[::-1]
    total = sum(codes[::2]) - ord("0") * len(codes[::2]) + sum(map(_LUHN_DOUBLE.__getitem__, codes[1::2]))
    return total % 10 == 0


_LUHN_DOUBLE = tuple(0 if code < 48 else (2 * (code - 48) - 9 if code > 52 else 2 * (code - 48)) for code in range(58))


# --- detectors ----------------------------------------------------------------------------------

# Between two digits: a line break (also <br> and a JSON-escaped \n), or up to three spaces,
# dashes or middle dots. Atomic, so a failed candidate never retries another split.
_SEP = r"(?>[ \t]{0,2}(?:<[bB][rR][ \t]{0,2}/?>|\\?\r?\n|\\n)[ \t]{0,2}|[ \t\-·]{1,3})"
_D = rf"(?:(?=[0-9])|{_SEP})"  # a separator, unless a digit follows right away (the fast case)
_CARD_SEP = r"(?>[ \t\-]{1,3})?"  # cards stay on one line: a column of amounts is not a card number
# Every pattern starts with a digit class, so the engine skips other text quickly; right after that
# first digit it checks what came before: no digit (a JSON \uXXXX escape is fine). A number ends
# with no digit or letter after it.
_START = r"(?:(?<![0-9].)|(?<=\\u[0-9a-fA-F]{4}.))"
_END = r"(?![0-9A-Za-z])"
_ID = re.compile(
    rf"[1-8]{_START}{_D}[0-9]"                                           # province
    rf"(?:{_D}[0-9]){{4}}"                                              # city and county
    rf"{_D}(?:1{_D}9|2{_D}0)(?:{_D}[0-9]){{2}}"                         # year 19xx or 20xx
    rf"{_D}(?:0{_D}[1-9]|1{_D}[0-2]){_D}(?:[0-2]{_D}[0-9]|3{_D}[01])"  # month, day
    rf"(?:{_D}[0-9]){{3}}(?:(?=[0-9Xx])|{_SEP})[0-9Xx]{_END}")          # sequence, check character
_CARD = re.compile(rf"[3-69]{_START}(?:{_CARD_SEP}[0-9]){{15,18}}{_END}")
# A mobile number may follow +86, 0086 or 86 glued to it; other prefixes are separated anyway.
_MOBILE = re.compile(rf"1(?:{_START}|(?<=(?<![0-9])86.)|(?<=(?<![0-9])0086.)){_D}[3-9](?:{_D}[0-9]){{9}}{_END}")
# Where numbers can be: runs of at least 11 digits and separators, starting at a run of digits. One
# fast scan finds them; the detectors above only ever look inside.
_CLUSTER = re.compile(rf"[0-9](?<![0-9][0-9])(?=[0-9 \t\-·<>bBrR/\\\r\nn]{{10}})[0-9]*+(?:{_SEP}[0-9]++)*+[Xx]?")
_NOT_DIGIT = re.compile(r"[^0-9Xx]")
_LABEL = re.compile(r"[A-Za-z]{0,8}(?:(?:00)?86)?")  # Tel, ID; +86 glued to a mobile number
_GLUED_LEFT = re.compile(r"[0-9A-Za-z_]+$")
_JSON_ESCAPE = re.compile(r"\\(?:[nrtbf]|u[0-9a-fA-F]{4})$")


@dataclass(frozen=True)
class Number:
    """A personal number: [start, end) in the text and in its normalised copy alike, and its
    `digits` without separators (a mobile number's national 11 digits, without +86)."""

    kind: str  # "id", "bank-card" or "mobile"
    start: int
    end: int
    digits: str

    @property
    def masked(self) -> str:
        return mask(self.digits, *_KEEP[self.kind])


_KEEP = {"id": (3, 4), "bank-card": (4, 4), "mobile": (3, 4)}


def _standalone(text: str, start: int) -> bool:
    """Not inside an alphanumeric token (a commit hash, a media id): at most a short label such as
    Tel or ID, or a JSON escape such as \\n, may be glued in front."""
    before = text[start - 1] if start else " "
    if not (before.isascii() and (before.isalnum() or before == "_")):
        return True
    window = text[max(0, start - 16):start]
    if _JSON_ESCAPE.search(window):
        return True
    glued = _GLUED_LEFT.search(window)
    if glued is None or (glued.start() == 0 and start > 16):
        return False  # glued to a run longer than any label
    return _LABEL.fullmatch(glued.group(0)) is not None


@lru_cache(maxsize=4)
def _clusters(normalised: str) -> tuple[tuple[int, int], ...]:
    return tuple(span for span in (match.span() for match in _CLUSTER.finditer(normalised)) if span[1] - span[0] >= 11)


def _find(pattern: re.Pattern[str], normalised: str, accept: Callable[[re.Match[str]], Number | None]) -> Iterator[Number]:
    """The numbers `accept` makes of the matches of `pattern` inside the clusters that are not glued
    into a token. The search goes on after a number, else one character on: a rejected candidate
    never hides one that overlaps it."""
    size = len(normalised)
    for start, end in _clusters(normalised):
        position, limit = start, min(size, end + 1)  # one more character: what follows the number
        while (match := pattern.search(normalised, position, limit)) is not None:
            number = accept(match) if _standalone(normalised, match.start()) else None
            if number is not None:
                yield number
            position = number.end if number is not None else match.start() + 1


def _overlaps(start: int, end: int, others: tuple[Number, ...]) -> bool:
    """Whether [start, end) overlaps one of `others` (sorted, not overlapping each other)."""
    index = bisect.bisect_left(others, end, key=lambda number: number.start)  # the first starting at or after end
    return index > 0 and others[index - 1].end > start


def resident_ids(normalised: str) -> Iterator[Number]:
    """Valid resident ID numbers in a normalised text, left to right, never overlapping."""
    def accept(match: re.Match[str]) -> Number | None:
        digits = _NOT_DIGIT.sub("", match.group()).upper()
        return Number("id", match.start(), match.end(), digits) if is_resident_id(digits) else None

    return _find(_ID, normalised, accept)


def bank_cards(normalised: str, besides: tuple[Number, ...] = ()) -> Iterator[Number]:
    """Luhn-valid card numbers of 16 to 19 digits that do not overlap `besides` (ID numbers). A
    candidate may end at any boundary between groups: `6217 0000 0000 0000 004 12` holds a card."""
    def accept(match: re.Match[str]) -> Number | None:
        start, found = match.start(), match.group()
        ends = [index + 1 for index, char in enumerate(found) if char.isdigit()]
        if _overlaps(start, start + ends[15], besides):
            return None  # the shortest card here already overlaps an ID number
        for count in range(len(ends), 15, -1):
            length = ends[count - 1]
            if length < len(found) and found[length].isdigit():
                continue  # the end would split a group of digits
            digits = _NOT_DIGIT.sub("", found[:length])
            if is_bank_card(digits) and not _overlaps(start, start + length, besides):
                return Number("bank-card", start, start + length, digits)
        return None

    return _find(_CARD, normalised, accept)


def mobiles(normalised: str, besides: tuple[Number, ...] = ()) -> Iterator[Number]:
    """Mobile numbers 1[3-9]x xxxx xxxx (a +86 or 0086 prefix is allowed but not part of the span)
    that do not overlap `besides`."""
    def accept(match: re.Match[str]) -> Number | None:
        if _overlaps(match.start(), match.end(), besides):
            return None
        return Number("mobile", match.start(), match.end(), _NOT_DIGIT.sub("", match.group()))

    return _find(_MOBILE, normalised, accept)


def personal_numbers(text: str) -> list[Number]:
    """Every ID number, bank card number and mobile number in `text` (original or normalised), in
    order and without overlaps: an ID wins over a card, a card over a mobile number."""
    normalised = normalise(text)
    ids = tuple(resident_ids(normalised))
    cards = tuple(bank_cards(normalised, ids))
    phones = tuple(mobiles(normalised, tuple(sorted(ids + cards, key=lambda number: number.start))))
    return sorted(ids + cards + phones, key=lambda number: number.start)


# --- credentials --------------------------------------------------------------------------------

_SCHEME = r"(?:Bearer|bearer|Basic|basic|[Tt]oken)[ \t]+"
_CREDENTIAL = re.compile(
    # key=value, key: value, "key": "value", 'key': 'value'; the key's prefix (access_, App) is kept
    r"(?P<key>(?i:token|secret|password|passwd|(?:api|aes|private|secret|access)[_-]?key|authorization))"
    r"(?![A-Za-z0-9])(?P<sep>[\"']?[ \t]*(?::|=(?!=))[ \t]*)"
    r"(?:\"(?P<dscheme>" + _SCHEME + r")?(?P<double>(?:[^\"\\\n]|\\.)*)\""
    r"|'(?P<sscheme>" + _SCHEME + r")?(?P<single>(?:[^'\\\n]|\\.)*)'"
    r"|(?P<bscheme>" + _SCHEME + r")?(?!(?:null|true|false|None)\b)[^\s&\"',;}\])(\[<>]+)"
    # a bearer token on its own, a JWT, GitHub tokens, a password in a URL, a private key
    r"|(?P<bearer>\bBearer[ \t]+)[A-Za-z0-9._~+/=-]+"
    r"|\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"
    r"|\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"
    r"|(?P<userinfo>://[^/\s:@]{1,200}:)[^/\s@]{1,200}@"
    r"|(?P<pem>-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----)(?=[\s\\]*[A-Za-z0-9+/=])[A-Za-z0-9+/=\s\\]+")


def _credential(match: re.Match[str]) -> str:
    """The match with only the secret part replaced by ***."""
    if match.group("key"):
        head = match.group("key") + match.group("sep")
        for quote, scheme, value in (('"', "dscheme", "double"), ("'", "sscheme", "single")):
            if match.group(value) is not None:
                return f"{head}{quote}{match.group(scheme) or ''}{'***' if match.group(value) else ''}{quote}"
        return f"{head}{match.group('bscheme') or ''}***"
    if match.group("bearer"):
        return match.group("bearer") + "***"
    if match.group("userinfo"):
        return match.group("userinfo") + "***@"
    if match.group("pem"):
        return match.group("pem") + "\n***\n"
    return "***"


# Every credential match starts at one of these (lower-cased); finding them with str.find is much
# faster than letting the regular expression try every position of a long text.
_CREDENTIAL_STARTS = ("token", "secret", "passw", "authorization", "api", "aes", "private", "access", "bearer",
                      "eyj", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "://", "-----begin")


def _credential_starts(text: str) -> list[int]:
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters lower-case to two; fall back to every position
        return list(range(len(text)))
    starts = set()
    for word in _CREDENTIAL_STARTS:
        found = lowered.find(word)
        while found >= 0:
            starts.add(found)
            found = lowered.find(word, found + 1)
    return sorted(starts)


def _mask_credentials(text: str) -> str:
    parts, position = [], 0
    for start in _credential_starts(text):
        if start < position:
            continue
        match = _CREDENTIAL.match(text, start)
        if match:
            parts += [text[position:start], _credential(match)]
            position = match.end()
    return "".join(parts) + text[position:] if parts else text


def redact(text: str) -> str:
    """The text with personal data and credentials masked: resident ID numbers, bank card numbers,
    mobile numbers (in any form: half/full-width digits, spaces, dashes, +86), access tokens /
    secrets / bearer tokens / JWTs in query-string, JSON, header or key=value form, and the values
    of the secret environment variables gzh is given. Idempotent."""
    if not text:
        return text
    text = _mask_credentials(_without_configured_secrets(text))
    numbers = personal_numbers(text)
    while numbers:
        parts, position = [], 0
        for number in numbers:
            parts += [text[position:number.start], number.masked]
            position = number.end
        parts.append(text[position:])
        # The kept ends, like 139 and 5678 of 139****5678, could make a new number with digits
        # right before or after them; look once more if so, for redact(redact(x)) must equal redact(x).
        again = any(_next_to_digits(normalise(text), number) for number in numbers)
        text = "".join(parts)
        numbers = personal_numbers(text) if again else []
    return text


# The secrets gzh is given, replaced wherever they appear, whatever shape the text around them has.
SECRET_VARIABLES = ("WECHAT_SECRET", "GITHUB_TOKEN", "GITEA_TOKEN", "GZH_FORGE_TOKEN", "GZH_BOT_TOKEN",
                    "GZH_GATE_TOKEN", "GZH_WEBHOOK_SECRET", "WECHAT_TOKEN", "WECHAT_AES_KEY")
# Every variable with this prefix is a secret: the group robots' keys and signing secrets, whose
# names gzh.yml chooses (pipeline/notify.py), so they cannot be listed here one by one.
SECRET_PREFIX = "GZH_NOTIFY_"


def _without_configured_secrets(text: str) -> str:
    named = [name for name in os.environ if name.startswith(SECRET_PREFIX)]
    for name in (*SECRET_VARIABLES, *named):
        secret = os.environ.get(name)
        if secret and len(secret) >= 4:  # a one-letter test value would star every such letter
            text = text.replace(secret, "***")
    return text


_DIGITS_AFTER = re.compile(rf"{_SEP}?[0-9]")
_DIGITS_BEFORE = re.compile(rf"[0-9]{_SEP}?\Z")


def _next_to_digits(normalised: str, number: Number) -> bool:
    return bool(_DIGITS_AFTER.match(normalised, number.end)
                or _DIGITS_BEFORE.search(normalised, max(0, number.start - 12), number.start))


_MASK_NOISE = re.compile(r"<[bB][rR][ \t]{0,2}/?>|\\n|[^0-9A-Za-z]")


def mask(value: str, keep_start: int = 3, keep_end: int = 4) -> str:
    """`value`'s digits and letters (separators dropped), all but the first `keep_start` and the
    last `keep_end` starred; a value too short to keep both ends is starred entirely."""
    digits = _MASK_NOISE.sub("", normalise(value))
    if len(digits) <= keep_start + keep_end:
        return "*" * len(digits)
    return digits[:keep_start] + "*" * (len(digits) - keep_start - keep_end) + (digits[-keep_end:] if keep_end else "")
