"""The confidentiality scan of Art. 6: markings, document numbers and personal data.

Patterns and validators follow the governance reference §2. Any finding here (except pure style)
marks the post for the secrecy office's review. Matched personal data is redacted in every
message: the report itself must never leak what it found.
"""
from __future__ import annotations

import re
from typing import Iterator

from stdnum import luhn
from stdnum.cn import ric

from pipeline.checks.model import Fix, Hit, PostView, Severity, rule
from pipeline.i18n import Text

_SECRET_MARK = re.compile(r"(绝密|机密|秘密)\s*[★☆*＊]\s*(\d+\s*(?:年|个月)|长期|启用前|[^\s，。]{0,12}?解密)?")
_BARE_LEVEL_LINE = re.compile(r"^[ \t【\[（(]*(绝密|机密|秘密)[ \t】\]）)]*$", re.M)
_INTERNAL_MARK = re.compile(
    r"内部资料[，,\s]*(?:注意保存|注意保管|免费交流)?|内部事项\s*注意保管|内部文件|内部使用|仅供内部\S{0,4}|(?:严禁|不得|请勿)外传")
_DOC_NUMBER = re.compile(
    r"(?P<agency>[\u4e00-\u9fff]{1,10})(?P<open>[〔\[【（(［])\s*(?P<year>(?:19|20)\d{2})\s*(?P<close>[〕\]】）)］])"
    r"\s*(?P<di>第?)\s*(?P<seq>\d{1,5})\s*号")
_AGENCY_LEAD = re.compile(r"^.*[据照《》的和及与将在对、]")
_ID_NUMBER = re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])")
_BANK_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){15,18}\d(?![\d-])")
_MOBILE = re.compile(r"(?<![\d+])(?:\+?86[-\s]?)?1[3-9]\d[-\s]?\d{4}[-\s]?\d{4}(?!\d)")
_ADDRESS = re.compile(
    r"[\u4e00-\u9fff]{1,6}(?:省|市|区|县)[^，。；！？\s]{0,20}?(?:路|街|巷|村|小区)[^，。；！？\s]{0,10}?(?:\d+|[一二三四五六七八九十百]+)(?:号|栋|幢|单元|室)"
    r"(?:[\d一二三四五六七八九十]+(?:号楼|号|栋|幢|单元|室|楼|层))*")
_DWELLING = re.compile(r"栋|幢|单元|室")

_SECRET = Text(
    "发现国家秘密标志“{mark}”。涉密信息一律不得公开发布（第四条、第六条）。请删除涉密内容；如确认不涉密，请由部门负责人报保密办复审",
    "State-secret marking '{mark}' found. Secret information may never be published (Art. 4, 6). "
    "Remove it, or have the head refer the post to the secrecy office")
_INTERNAL = Text(
    "发现内部资料标志“{mark}”，内部资料或工作秘密不能公开发布。请删除该内容，或由部门负责人报保密办复审",
    "Internal-use marking '{mark}' found; internal material may not be published. Remove it or refer it "
    "to the secrecy office")
_DOC = Text(
    "引用了文件“{number}”，需确认该文件已公开发布。已公开的文件可由保密办加入 gzh.yml 的 checks.allowlists.document_numbers",
    "Cites document '{number}'; confirm it has been made public. The secrecy office can allowlist public "
    "documents under checks.allowlists.document_numbers")
_DOC_STYLE = Text(
    "发文字号“{found}”格式不规范：年份要用六角括号〔〕，序号前不加“第”、不编虚位。应写作“{fixed}”",
    "Document number '{found}' is malformed: use 〔〕 around the year, no 第, no leading zeros: '{fixed}'")
_ID = Text(
    "发现居民身份证号码 {masked}。公开身份证号会泄露个人信息，请删除",
    "Resident ID number {masked} found. Publishing it leaks personal data; remove it")
_BANK = Text(
    "发现银行卡号 {masked}。公开银行卡号会泄露个人金融信息，请删除；对公账户请由保密办确认",
    "Bank card number {masked} found. Remove it; a corporate account needs the secrecy office's check")
_MOBILE_FOUND = Text(
    "发现手机号码 {masked}。公开个人手机号须经本人同意：请删除，或改用单位公开电话；确需公开的，请加忽略注释写明理由",
    "Mobile number {masked} found. A personal number needs the owner's consent: remove it, use the public "
    "office number, or add an ignore comment with the reason")
_ADDRESS_FOUND = Text(
    "疑似个人住址“{masked}”。公开个人住址会泄露个人信息，请核实；单位办公地址可加入 checks.allowlists.addresses",
    "Possible personal address '{masked}'. Check it; an office address can be allowlisted under "
    "checks.allowlists.addresses")


def mask(value: str, keep_start: int = 3, keep_end: int = 4) -> str:
    digits = re.sub(r"[\s-]", "", value)
    hidden = max(len(digits) - keep_start - keep_end, 0)
    return digits[:keep_start] + "*" * hidden + (digits[-keep_end:] if keep_end else "")


def _scan(view: PostView, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
    for match in pattern.finditer(view.post.text):
        if not view.in_url(*match.span()):
            yield match


@rule("secret-marking", Severity.ERROR, Text("不含国家秘密标志", "No state-secret markings"), secrecy=True)
def secret_marking(view: PostView) -> Iterator[Hit]:
    for match in _scan(view, _SECRET_MARK):
        yield Hit(view.location(match.start()), _SECRET(mark=match.group(0).strip()))
    for match in _scan(view, _BARE_LEVEL_LINE):
        yield Hit(view.location(match.start(1)), _SECRET(mark=match.group(1)))


@rule("internal-marking", Severity.ERROR, Text("不含内部资料、工作秘密标志", "No internal-use markings"), secrecy=True)
def internal_marking(view: PostView) -> Iterator[Hit]:
    for match in _scan(view, _INTERNAL_MARK):
        yield Hit(view.location(match.start()), _INTERNAL(mark=match.group(0).strip()))


def _agency(match: re.Match[str]) -> str:
    """The issuing organ's code: the CJK run before the bracket, without the words leading into it."""
    return _AGENCY_LEAD.sub("", match.group("agency")) or match.group("agency")


def _canonical_number(match: re.Match[str]) -> str:
    return f"{_agency(match)}〔{match.group('year')}〕{int(match.group('seq'))}号"


def _canonical_value(value: str) -> str:
    """An allowlisted number in the form the scan compares: brackets and zero padding normalised."""
    match = _DOC_NUMBER.fullmatch(value.strip())
    return _canonical_number(match) if match else value.strip()


@rule("document-number", Severity.WARNING, Text("引用的发文字号已公开", "Cited document numbers are public"), secrecy=True)
def document_number(view: PostView) -> Iterator[Hit]:
    public = {_canonical_value(value) for value in view.policy.allowed_values("document_numbers")}
    for match in _scan(view, _DOC_NUMBER):
        number = _canonical_number(match)
        if number not in public:  # the whole number: 苏扬工发〔2026〕12号 is not 扬工发〔2026〕12号
            yield Hit(view.location(match.start() + len(match.group("agency")) - len(_agency(match))), _DOC(number=number))


@rule("document-number-style", Severity.WARNING, Text("发文字号格式规范（〔〕、无“第”、无虚位）",
                                                      "Document numbers use 〔〕, no 第, no leading zeros"))
def document_number_style(view: PostView) -> Iterator[Hit]:
    for match in _scan(view, _DOC_NUMBER):
        start = match.start("open")
        found = view.post.text[start:match.end()]
        fixed = f"〔{match.group('year')}〕{int(match.group('seq'))}号"
        if found != fixed:
            message = _DOC_STYLE(found=_agency(match) + found, fixed=_agency(match) + fixed)
            yield Hit(view.location(start), message, Fix(start, match.end(), fixed))


@rule("id-number", Severity.ERROR, Text("不含居民身份证号码", "No resident ID numbers"), secrecy=True)
def id_number(view: PostView) -> Iterator[Hit]:
    for match in _scan(view, _ID_NUMBER):
        if ric.is_valid(match.group(0)):
            yield Hit(view.location(match.start()), _ID(masked=mask(match.group(0), 3, 4)))


@rule("bank-card", Severity.ERROR, Text("不含银行卡号", "No bank card numbers"), secrecy=True)
def bank_card(view: PostView) -> Iterator[Hit]:
    for match in _scan(view, _BANK_CARD):
        digits = re.sub(r"[\s-]", "", match.group(0))
        if 16 <= len(digits) <= 19 and luhn.is_valid(digits) and not ric.is_valid(digits):
            yield Hit(view.location(match.start()), _BANK(masked=mask(digits, 4, 4)))


def _phone_digits(value: str) -> str:
    digits = re.sub(r"\D", "", value)
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


@rule("mobile-number", Severity.WARNING, Text("不含个人手机号码", "No personal mobile numbers"), secrecy=True)
def mobile_number(view: PostView) -> Iterator[Hit]:
    public = {_phone_digits(value) for value in view.policy.allowed_values("phones")}
    for match in _scan(view, _MOBILE):
        digits = _phone_digits(match.group(0))
        if digits not in public:
            yield Hit(view.location(match.start()), _MOBILE_FOUND(masked=mask(digits, 3, 4)))


@rule("address", Severity.WARNING, Text("不含个人住址", "No personal addresses"), secrecy=True)
def address(view: PostView) -> Iterator[Hit]:
    public = view.policy.allowed_values("addresses")
    for match in _scan(view, _ADDRESS):
        text = match.group(0)
        if any(value in text for value in public) and not _DWELLING.search(text):
            continue  # an allowlisted office address with a street number, not a dwelling
        yield Hit(view.location(match.start()), _ADDRESS_FOUND(masked=text[:6] + "***"))
