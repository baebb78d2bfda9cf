"""The confidentiality scan of Art. 6: markings, document numbers and personal data.

Patterns and validators follow the governance reference §2. Any finding here (except pure style)
marks the post for the secrecy office's review. Matched personal data is redacted in every
message: the report itself must never leak what it found.

Every rule reads the post through `pipeline.redact.normalise`: full-width digits and letters,
ideographic and zero-width spaces and all kinds of dashes are folded, one character for one, so a
match in the normalised copy is reported at the same offset of the original text. Personal numbers
come from the detectors in `pipeline.redact`, the same ones that mask every output.
"""
from __future__ import annotations

import re
from typing import Iterable, Iterator

from pipeline.checks.model import Fix, Hit, PostView, Severity, rule
from pipeline.i18n import Text
from pipeline.redact import Number, mask, normalise, personal_numbers

__all__ = ["address", "bank_card", "document_number", "document_number_style", "id_number", "internal_marking",
           "mask", "mobile_number", "secret_marking"]

# --- patterns (on the normalised text; every one linear: bounded or single-class repetitions) -----

_GAP = r"[ \t]{0,2}"  # 密 级, 工 作 秘 密: spaces inside a word (full-width ones are folded already)


# Traditional forms of the characters in markings: 機密★一年 is the same marking as 机密★一年.
_TRADITIONAL = dict(zip("机绝级内传阅资务参严启长个仅只秘为项属开电质", "機絕級內傳閱資務參嚴啟長個僅祇祕為項屬開電質"))


def _char(char: str) -> str:
    variant = _TRADITIONAL.get(char)
    return f"[{char}{variant}]" if variant else re.escape(char)


def _words(*words: str) -> str:
    """Any of `words`, in simplified or traditional characters, each allowed a little space between its characters."""
    return "(?:" + "|".join(_GAP.join(_char(char) for char in word) for word in words) + ")"


_LEVEL = _words("绝密", "机密", "秘密")
_STARS = "★☆✱✲✳✩✪✫✬✭✮✯⭐"
_STAR = f"[{_STARS}]"  # and *, but only with a term after it: **秘密** is Markdown bold
_STAR_OR_ASTERISK = f"[*{_STARS}]"
_TERM = rf"(?:(?:[0-9]++|[一二三四五六七八九十]{{1,3}})[ \t]{{0,2}}(?:年|{_words('个月')})|{_words('长期', '启用前')}|[^\s,，。]{{0,12}}?解密)"
_COLON = r"[ \t]*[:：]?[ \t]*"
_OPEN = r"[【\[〔〖(（]"
_CLOSE = r"[】\]〕〗)）]"
_SECRET_MARK = re.compile(
    rf"{_LEVEL}[ \t]*(?:{_STAR}[ \t]*{_TERM}?|\*[ \t]*{_TERM})"                         # 秘密★1年, 秘密*1年
    rf"|{_words('密级')}{_COLON}(?:为[ \t]*)?{_LEVEL}"                                # 密级：机密
    rf"(?:[ \t,，;；]*{_words('保密期限')}{_COLON}{_TERM})?"                          # 　保密期限：1年
    rf"|{_words('保密期限')}[ \t]*[:：][ \t]*(?:[0-9]++[ \t]{{0,2}}(?:年|个月)|{_words('长期')})")
_BRACKETED_LEVEL = re.compile(
    rf"{_OPEN}[ \t]*(?P<level>{_LEVEL})[ \t]*(?:{_STAR_OR_ASTERISK}[ \t]*{_TERM}?[ \t]*)?{_CLOSE}")
_BARE_LEVEL_LINE = re.compile(rf"^[ \t>*_【\[〔〖(（]*(?P<level>{_LEVEL})[ \t*_】\]〕〗)）]*$", re.M)

_KEEP_INSIDE = _words("注意保存", "注意保管", "妥善保管", "免费交流", "注意保密", "请勿外传", "严禁外传", "不得外传",
                      "严禁外泄", "不得外泄")
_ONLY = _words("仅限", "仅供", "只限", "只供", "限于")
_INSIDE = _words("内部")
_SEP = r"[ \t,，、]*"
_INTERNAL_LABEL = _words("内部资料", "内部文件", "内部事项", "内部材料", "内部刊物", "内部使用", "内部传阅", "内部参考",
                         "工作秘密", "内部")
_INTERNAL_MARK = re.compile(
    rf"{_words('内部资料')}{_SEP}{_KEEP_INSIDE}"                                           # 内部资料 注意保存
    rf"|{_words('内部事项')}{_SEP}{_words('注意保管')}"
    rf"|{_ONLY}[ \t]*{_INSIDE}[ \t]*{_words('传阅', '参考', '使用', '交流', '掌握', '阅读', '学习', '知悉')}"
    rf"|{_ONLY}[ \t]*{_INSIDE}(?=[ \t]*(?:[,，。.;；:：)）】\]!！、]|$))"                   # 仅限内部。 (not 仅限内部职工)
    rf"|{_words('内部传阅', '内部明电', '此件不公开', '此件不予公开')}"
    rf"|{_words('严禁', '不得', '请勿', '禁止', '切勿', '不要')}[ \t]*{_words('外传', '外泄', '外流')}"
    # 本文件属工作秘密, 此件为内部资料, 本材料供内部参考: a statement about this very text (本文不涉及… is not)
    rf"|(?:本|此|该|以上|上述)(?:(?![不未非无没])[\u4e00-\u9fff]){{0,4}}?[ \t]*(?:属于?|系|为|是|含有?|涉及|供|限)[ \t]*"
    rf"{_words('工作秘密', '内部文件', '内部资料', '内部材料', '内部事项', '内部刊物', '内部使用', '内部参考', '内部传阅')}"
    rf"|(?:文件|材料|资料)[ \t]*(?:属于?|系)[ \t]*{_words('工作秘密', '内部文件', '内部资料', '内部材料', '内部事项')}"
    rf"|{_words('工作秘密')}[ \t]*(?:{_STAR}|[,，、]?[ \t]*{_words('注意保管', '注意保密', '妥善保管')})"
    rf"|{_OPEN}[ \t]*(?:{_ONLY}[ \t]*)?(?:{_INTERNAL_LABEL}|{_words('注意保密')})(?:{_SEP}{_KEEP_INSIDE})?[ \t]*{_CLOSE}",
    re.M)
# A label alone on its line (a header or footer line of a document), e.g. "内部", "工作秘密", "注意保密"
_INTERNAL_LINE = re.compile(
    rf"^[ \t>*_]*(?P<mark>{_INTERNAL_LABEL}(?:{_SEP}{_KEEP_INSIDE})?|{_words('请注意保密', '注意保密')})[ \t*_。.!！]*$",
    re.M)

_DOC_NUMBER = re.compile(
    r"(?P<agency>[\u4e00-\u9fff]{1,10})(?P<open>[〔\[【（(［])\s*(?P<year>(?:19|20)\d{2})\s*(?P<close>[〕\]】）)］])"
    r"\s*(?P<di>第?)\s*(?P<seq>\d{1,5})\s*号")
_AGENCY_LEAD = re.compile(r"^.*[据照《》的和及与将在对、]")

_NOT_BREAK = r"[^，,。；;！!？?\s]"
_PLACE = r"(?:路|街|巷|弄|村|组|小区|苑|花园|公寓|新村|家园)"
_NUMBER = r"(?:[0-9]++|[一二三四五六七八九十百]++)"
_UNIT = r"(?:号楼|号|栋|幢|单元|室)"
_MORE_UNITS = r"(?:[ \t]?(?:[0-9]++|[一二三四五六七八九十]++|[A-Za-z])[ \t]?(?:号楼|号|栋|幢|座|单元|室|楼|层))*+"
# After the city, district or county: the first road, street, village or estate, then the first house
# number. Both steps are atomic, so each candidate costs at most some thirty steps.
_STREET_AND_NUMBER = (rf"(?>{_NOT_BREAK}{{0,20}}?{_PLACE})(?>{_NOT_BREAK}{{0,10}}?[ \t]?{_NUMBER}[ \t]?{_UNIT})"
                      rf"{_MORE_UNITS}")
_HOME_WORDS = r"(?:家住|家庭住址|家庭地址|住址|居住在|居住于|居住地|住在|现住|现居|户籍所在地|户籍地|暂住|租住)"
_ADDRESS = re.compile(rf"(?:省|市|区|县){_STREET_AND_NUMBER}")  # the place name before it: _PLACE_NAME
_PLACE_NAME = re.compile(r"[\u4e00-\u9fff]{1,6}$")
_HOME_ADDRESS = re.compile(  # someone's home, even without a city: 家住东关街18号
    rf"{_HOME_WORDS}[:：]?[ \t]*(?:在|于|为|是)?{_STREET_AND_NUMBER}")
_HOME = re.compile(_HOME_WORDS)
_NUMBER_ON = re.compile(r"[0-9一二三四五六七八九十百]")  # a quoted address stops before its house number
_HOME_LEAD = re.compile(rf"{_NOT_BREAK}{{0,8}}?(?P<home>{_HOME_WORDS})[:：]?[ \t]*(?:在|于|为|是)?")  # 刘某家住, 住址：
# The parts of a dwelling: building, unit, room; or a house number in a village or a village group
_DWELLING = re.compile(r"(?:(?<![0-9])[0-9]++|(?<![一二三四五六七八九十])[一二三四五六七八九十]++|(?<![A-Za-z])[A-Za-z])"
                       r"[ \t]?(?:栋|幢|单元|室|号楼)"
                       r"|(?:村|组)[^，。\s]{0,6}?[0-9一二三四五六七八九十]++[ \t]?号")

# --- messages --------------------------------------------------------------------------------------

_SECRET = Text(
    "发现国家秘密标志“{mark}”。涉密信息一律不得公开发布（第四条、第六条）。请删除涉密内容；如确认不涉密，请由部门负责人报保密办复审",
    "State-secret marking '{mark}' found. Secret information may never be published (Art. 4, 6). "
    "Remove it, or have the head refer the post to the secrecy office")
_INTERNAL = Text(
    "发现内部资料或工作秘密标志“{mark}”，内部资料和工作秘密不能公开发布。请删除该内容，或由部门负责人报保密办复审",
    "Internal-use or work-secret marking '{mark}' found; internal material may not be published. Remove it or "
    "refer it to the secrecy office")
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
    "发现手机号码 {masked}。公开个人手机号须经本人同意：请删除，或改用单位公开电话",
    "Mobile number {masked} found. A personal number needs the owner's consent: remove it or use the public "
    "office number")
_MOBILE_WAIVER = Text("；确需公开的，请加忽略注释写明理由", ", or add an ignore comment with the reason")
_ADDRESS_FOUND = Text(
    "疑似个人住址“{masked}”（含楼栋、单元、室号，或写明是某人的住处）。公开个人住址会泄露个人信息，请删除或只写到街道；"
    "单位办公地址可由保密办加入 checks.allowlists.addresses",
    "Possible personal address '{masked}' (it has a building, unit or room, or is called someone's home). "
    "Remove it or give only the street; an office address can be allowlisted under checks.allowlists.addresses")


# --- helpers ---------------------------------------------------------------------------------------

def _normalised(view: PostView) -> str:
    return normalise(view.post.text)  # cached: the rules of one post share one copy


def _scan(view: PostView, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
    for match in pattern.finditer(_normalised(view)):
        if not view.in_url(*match.span()):
            yield match


def _first_of_overlaps(found: Iterable[tuple[int, int, str]]) -> Iterator[tuple[int, str]]:
    """(start, end, mark) spans from several patterns: one hit per run of overlapping spans, at
    its first span (the earliest, and the longest of those starting there)."""
    end = -1
    for start, stop, mark in sorted(found, key=lambda span: (span[0], -span[1])):
        if start >= end:
            yield start, mark
        end = max(end, stop)


def _original(view: PostView, start: int, end: int) -> str:
    return view.post.text[start:end].strip()


def _numbers(view: PostView, kind: str) -> Iterator[Number]:
    """The post's personal numbers of one kind (never overlapping one of another kind), outside URLs."""
    for number in personal_numbers(view.post.text):  # cached with the normalised copy
        if number.kind == kind and not view.in_url(number.start, number.end):
            yield number


# --- rules -----------------------------------------------------------------------------------------

@rule("secret-marking", Severity.ERROR, Text("不含国家秘密标志", "No state-secret markings"), secrecy=True,
      name=Text("国家秘密标志", "state-secret marking"))
def secret_marking(view: PostView) -> Iterator[Hit]:
    found = [(match.start(), match.end(), _original(view, *match.span())) for match in _scan(view, _SECRET_MARK)]
    for pattern in (_BRACKETED_LEVEL, _BARE_LEVEL_LINE):
        found += [(match.start(), match.end(), _original(view, *match.span("level"))) for match in _scan(view, pattern)]
    for start, mark in _first_of_overlaps(found):
        yield Hit(view.location(start), _SECRET(mark=mark))


@rule("internal-marking", Severity.ERROR, Text("不含内部资料、工作秘密标志", "No internal-use or work-secret markings"),
      secrecy=True, name=Text("内部资料标志", "internal-use marking"))
def internal_marking(view: PostView) -> Iterator[Hit]:
    found = [(match.start(), match.end(), _original(view, *match.span())) for match in _scan(view, _INTERNAL_MARK)]
    found += [(match.start("mark"), match.end(), _original(view, *match.span("mark")))
              for match in _scan(view, _INTERNAL_LINE)]
    for start, mark in _first_of_overlaps(found):
        yield Hit(view.location(start), _INTERNAL(mark=mark))


def _agency(match: re.Match[str]) -> str:
    """The issuing organ's code: the CJK run before the bracket, without the words leading into it."""
    return _AGENCY_LEAD.sub("", match.group("agency")) or match.group("agency")


def _canonical_number(match: re.Match[str]) -> str:
    return f"{_agency(match)}〔{match.group('year')}〕{int(match.group('seq'))}号"


def _canonical_value(value: str) -> str:
    """An allowlisted number in the form the scan compares: brackets and zero padding normalised."""
    match = _DOC_NUMBER.fullmatch(normalise(value.strip()))
    return _canonical_number(match) if match else value.strip()


@rule("document-number", Severity.WARNING, Text("引用的发文字号已公开", "Cited document numbers are public"), secrecy=True,
      name=Text("发文字号", "document number"))
def document_number(view: PostView) -> Iterator[Hit]:
    public = {_canonical_value(value) for value in view.policy.allowed_values("document_numbers")}
    for match in _scan(view, _DOC_NUMBER):
        number = _canonical_number(match)
        if number not in public:  # the whole number: 苏扬工发〔2026〕12号 is not 扬工发〔2026〕12号
            yield Hit(view.location(match.start() + len(match.group("agency")) - len(_agency(match))), _DOC(number=number))


@rule("document-number-style", Severity.WARNING, Text("发文字号格式规范（〔〕、无“第”、无虚位）",
                                                      "Document numbers use 〔〕, no 第, no leading zeros"),
      name=Text("发文字号格式", "document number style"))
def document_number_style(view: PostView) -> Iterator[Hit]:
    for match in _scan(view, _DOC_NUMBER):
        start = match.start("open")
        found = view.post.text[start:match.end()]
        fixed = f"〔{match.group('year')}〕{int(match.group('seq'))}号"
        if found != fixed:
            message = _DOC_STYLE(found=_agency(match) + found, fixed=_agency(match) + fixed)
            yield Hit(view.location(start), message, Fix(start, match.end(), fixed))


@rule("id-number", Severity.ERROR, Text("不含居民身份证号码", "No resident ID numbers"), secrecy=True,
      name=Text("身份证号码", "ID number"))
def id_number(view: PostView) -> Iterator[Hit]:
    for number in _numbers(view, "id"):
        yield Hit(view.location(number.start), _ID(masked=number.masked))


@rule("bank-card", Severity.ERROR, Text("不含银行卡号", "No bank card numbers"), secrecy=True,
      name=Text("银行卡号", "bank card number"))
def bank_card(view: PostView) -> Iterator[Hit]:
    for number in _numbers(view, "bank-card"):
        yield Hit(view.location(number.start), _BANK(masked=number.masked))


def _phone_digits(value: str) -> str:
    digits = re.sub(r"\D", "", normalise(value))
    return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits


@rule("mobile-number", Severity.WARNING, Text("不含个人手机号码", "No personal mobile numbers"), secrecy=True,
      name=Text("手机号码", "mobile number"))
def mobile_number(view: PostView) -> Iterator[Hit]:
    public = {_phone_digits(value) for value in view.policy.allowed_values("phones")}
    for number in _numbers(view, "mobile"):
        if number.digits not in public:
            yield Hit(view.location(number.start), _MOBILE_FOUND(masked=number.masked), waiver=_MOBILE_WAIVER())


def _personal(normalised: str, start: int, end: int, public: frozenset[str]) -> bool:
    """An address is someone's home when it is introduced as one (家住, 住址, 居住在…) or has the
    parts of a dwelling (building, unit, room); a public venue's street number is not personal. An
    allowlisted value covers the part it spells out: another room on an allowlisted street is not."""
    if _HOME.search(normalised, max(0, start - 8), start + 8):
        return True
    text = normalised[start:end]
    for value in public:
        value = normalise(value).strip()
        if value and value in text:
            text = text.replace(value, "", 1)
            break
    return _DWELLING.search(text) is not None


@rule("address", Severity.WARNING, Text("不含个人住址", "No personal addresses"), secrecy=True,
      name=Text("个人住址", "personal address"))
def address(view: PostView) -> Iterator[Hit]:
    public = view.policy.allowed_values("addresses")
    normalised = _normalised(view)
    found = [(match.start(), match.end(), _original(view, *match.span())) for match in _scan(view, _HOME_ADDRESS)]
    for match in _scan(view, _ADDRESS):
        name = _PLACE_NAME.search(normalised, max(0, match.start() - 6), match.start())
        if name and _personal(normalised, name.start(), match.end(), public):
            found.append((name.start(), match.end(), _original(view, name.start(), match.end())))
    for start, text in _first_of_overlaps(found):
        lead = _HOME_LEAD.match(text)  # point at 家住 and quote what follows, not "慰问对象刘某" before it
        if lead:
            start, text = start + lead.start("home"), text[lead.end():]
        yield Hit(view.location(start), _ADDRESS_FOUND(masked=_NUMBER_ON.split(text, 1)[0][:6] + "***"))
