"""The management measures as data: load and validate `gzh.yml` into an immutable Policy.

Every later stage (check, approval, publishing, inspection, emergency) reads who is who and what
is allowed from here, so a mistake in the file must be reported precisely and never half-loaded.
There is one way in: `parse_policy` validates everything the text can say (schema, notation, names,
order, liveness, the rule ids under checks.severity); `load_repository_policy`, which every command
uses, adds what needs the repository (the default theme among its templates).
"""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Iterator, Mapping

import jsonschema
import yaml

from pipeline import yamlsource
from pipeline.errors import ConfigError
from pipeline.i18n import Text
from pipeline.yamlsource import Location, Problem

POLICY_FILE = "gzh.yml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Person:
    username: str
    name: str
    title: str = ""

    def display(self) -> str:
        return f"{self.name}（@{self.username}）"


@dataclass(frozen=True)
class Department:
    slug: str
    name: str
    folder: str
    heads: tuple[str, ...]
    leader_in_charge: str


@dataclass(frozen=True)
class Category:
    slug: str
    name: str
    description: str


@dataclass(frozen=True)
class AllowEntry:
    value: str
    approved_by: str
    reason: str


@dataclass(frozen=True)
class ProtectedPaths:
    patterns: tuple[str, ...]  # git-style globs: `*` within a folder, `**` across folders
    roles: tuple[str, ...]


@dataclass(frozen=True)
class CombinedTiers:
    """One person explicitly allowed to fill several tiers of one post's chain (e.g. a department
    head who is also the publicity head), with the reason, so the exception is auditable."""

    person: str
    tiers: frozenset[str]
    reason: str


@dataclass(frozen=True)
class Route:
    keywords: tuple[str, ...]
    department: str


@dataclass(frozen=True)
class Channel:
    """A group robot of 企业微信 (WeCom) or 钉钉 (DingTalk). The policy names only the environment
    variables (CI secrets, GZH_NOTIFY_*) holding its key and signing secret, never the values."""

    name: str
    service: str          # wecom or dingtalk
    key: str              # the variable with the WeCom robot key or the DingTalk access_token
    sign: str = ""        # DingTalk with 加签: the variable with the signing secret (SEC…)


@dataclass(frozen=True)
class Notifications:
    """Which channel each department, person and the management group (管理小组) is told through."""

    channels: Mapping[str, Channel]
    departments: Mapping[str, str]   # department slug → channel name
    people: Mapping[str, str]        # username → channel name
    management: str = ""             # channel name; "" when the management group has none


@dataclass(frozen=True)
class Policy:
    path: str
    account_name: str
    wechat_id: str
    people: Mapping[str, Person]
    leader: str
    deputies: tuple[str, ...]
    roles: Mapping[str, tuple[str, ...]]
    duty_weekdays: Mapping[str, str]
    duty_dates: Mapping[str, str]
    departments: tuple[Department, ...]
    categories: tuple[Category, ...]
    severities: Mapping[str, str] = field(default_factory=dict)
    allowlists: Mapping[str, tuple[AllowEntry, ...]] = field(default_factory=dict)
    theme: str | None = None
    theme_location: Location | None = None
    publish_mode: str = "publish"
    mass_per_day: int = 1
    strict_order: bool = False
    secrecy_label: str = "需保密办复审"
    protected: tuple[ProtectedPaths, ...] = ()
    other_roles: tuple[str, ...] = ("administrator",)
    combined: tuple[CombinedTiers, ...] = ()
    warn_days: int = 10
    fail_days: int = 14
    due_days: int = 3
    reply_within_days: int = 5
    routes: tuple[Route, ...] = ()
    report_hours: int = 24
    notifications: Notifications | None = None  # None: no group robots, notify() does nothing

    def department_by_folder(self, folder: str) -> Department | None:
        return next((dept for dept in self.departments if dept.folder == folder), None)

    def department_of(self, bundle: str) -> Department | None:
        """The department whose folder holds a post (content/<folder>/<post>), if any."""
        parts = bundle.split("/")
        return self.department_by_folder(parts[1]) if len(parts) > 2 else None

    def department(self, slug: str) -> Department | None:
        return next((dept for dept in self.departments if dept.slug == slug), None)

    def category(self, slug_or_name: str) -> Category | None:
        """Posts may name a category by slug (`guides`) or by its Chinese name (`办事指南`)."""
        return next((cat for cat in self.categories if slug_or_name in (cat.slug, cat.name)), None)

    def duty_leader(self, day: dt.date) -> str | None:
        """Art. 9(2): the leader on duty that day; a dated entry beats the weekday rota."""
        return self.duty_dates.get(day.isoformat()) or self.duty_weekdays.get(WEEKDAYS[day.weekday()])

    def allowed_values(self, kind: str) -> frozenset[str]:
        return frozenset(entry.value for entry in self.allowlists.get(kind, ()))

    def members(self, role: str) -> tuple[str, ...]:
        return self.roles.get(role, ())

    def combined_tiers(self, username: str) -> frozenset[str]:
        """The tier kinds `username` may fill at once (empty: one tier, like everyone else)."""
        return frozenset(kind for entry in self.combined if entry.person == username for kind in entry.tiers)

    def person(self, username: str) -> Person:
        return self.people.get(username) or Person(username, username)

    def names(self, usernames: Iterable[str]) -> str:
        """People as messages name them: 姓名（@login）、…"""
        return "、".join(self.person(username).display() for username in usernames)


_NOT_FOUND = Text("找不到策略文件 {path}。请在仓库根目录创建 gzh.yml（可参考项目自带的示例）",
                  "Policy file {path} not found. Create gzh.yml at the repository root (see the shipped example)")
_UNREADABLE = Text("无法读取策略文件 {path}：{error}", "Cannot read policy file {path}: {error}")
_INVALID = Text("策略文件 {path} 有 {count} 处错误，请逐条修改后重试：",
                "Policy file {path} has {count} problem(s); fix each and retry:")
_UNKNOWN_PERSON = Text("“{username}”不在 people 名册中。请先在 people 下登记此人（姓名、职务），或检查用户名是否拼错",
                       "'{username}' is not listed under people. Add the person there, or fix the spelling")
_UNKNOWN_ROUTE = Text("留言转交规则中的部门“{slug}”不存在，请改为 departments 中的部门编号之一：{known}",
                      "Department '{slug}' in a routing rule does not exist; use one of: {known}")
_DUPLICATE = Text("{what}“{value}”与前面的重复，每个{what}只能出现一次",
                  "{what} '{value}' repeats an earlier one; each must be unique")
_UNFILLABLE = Text(
    "{department}的文章永远无法审批完成：{tiers} 须由不同的人批准，但能担任这些环节的只有 {people}。"
    "请为该部门增加一位负责人（如副部长），或在 approval.combined_tiers 中写明允许某人兼任哪两个环节及理由",
    "{department}'s posts can never be approved: {tiers} need distinct people, but only {people} can fill them. "
    "Add another head (e.g. a deputy), or allow one person to combine two tiers under approval.combined_tiers")
_UNFILLABLE_SECRECY = Text(
    "{department}的文章需要保密办复审时无法审批完成：{tiers} 须由不同的人批准，但能担任这些环节的只有 {people}。"
    "请为该部门或保密委员会办公室增加一人（保密办复审不能由其他环节的人兼任）",
    "{department}'s posts cannot be approved when the secrecy office must review: {tiers} need distinct "
    "people, but only {people} can fill them. Add a person to the department or the secrecy office")
_SLUG = Text("部门编号", "Department slug")
_COMBINED_PERSON = Text("兼任环节的人", "Person combining tiers")
_FOLDER = Text("部门文件夹", "Department folder")
_CATEGORY = Text("类别", "Category")
_CATEGORY_NAME = Text("类别名称", "Category name")
_NOT_A_DATE = Text(
    "“{value}”不是有效的日期。请按“年-月-日”写成四位年、两位月（01～12）、两位日（不超过当月天数），"
    "并加英文引号，例如 \"2026-10-01\"",
    "'{value}' is not a valid date. Write year-month-day with a two-digit month (01-12) and a day that exists "
    "in that month, quoted, e.g. \"2026-10-01\"")
_ODD_INTEGER = Text(
    "“{text}”不是普通的十进制整数：YAML 会把它读成 {value}（0 开头、0x、0b、“_”和“:”都是特殊写法）。"
    "请只用数字 0～9 书写、不以 0 开头，例如 {value}",
    "'{text}' is not a plain decimal integer: YAML reads it as {value} (a leading 0, 0x, 0b, '_' and ':' "
    "are special notations). Write digits only, without a leading zero, e.g. {value}")
_FRACTION = Text("“{text}”是小数，这里应为整数（不带小数点，不用科学计数法）{example}",
                 "'{text}' is a fraction; write an integer (no decimal point or exponent){example}")
_FRACTION_EXAMPLE = Text("，例如 {value}", ", e.g. {value}")
_WARN_NOT_BEFORE_FAIL = Text(
    "提醒天数 warn_days（{warn}{warn_default}）必须小于不合格天数 fail_days（{fail}{fail_default}），"
    "否则巡查来不及提醒就直接判为不合格。请把 warn_days 改小或把 fail_days 改大，例如 10 和 14",
    "warn_days ({warn}{warn_default}) must be less than fail_days ({fail}{fail_default}), or the patrol fails "
    "before it ever warns. Lower warn_days or raise fail_days, e.g. 10 and 14")
_MASS_NEVER = Text(
    "默认发布方式 mode 为 mass（群发），但每天群发次数 mass_per_day 为 0：群发类文章将永远只存为草稿。"
    "请把 mass_per_day 改为至少 1（认证订阅号为 1），或把 mode 改为 publish 或 draft",
    "mode is mass but mass_per_day is 0: mass posts would only ever be saved as drafts. Set mass_per_day "
    "to at least 1 (1 for a verified subscription account), or mode to publish or draft")
_DEFAULT = Text("，未填写时的默认值", ", the default")
_UNKNOWN_CHANNEL = Text("通知群“{name}”没有在 notifications.channels 中定义。请改为已定义的通知群之一：{known}",
                         "Channel '{name}' is not defined under notifications.channels; use one of: {known}")
_UNKNOWN_DEPARTMENT = Text("部门“{slug}”不存在，请改为 departments 中的部门编号之一：{known}",
                           "Department '{slug}' does not exist; use one of: {known}")
_SIGN_FOR_WECOM = Text("只有钉钉（dingtalk）机器人有加签密钥 sign；企业微信（wecom）群机器人只用 key，请删除 sign",
                       "Only a DingTalk robot has a signing secret; remove sign from this WeCom channel")
_UNKNOWN_RULE = Text("checks.severity 里的规则“{rule_id}”不存在。可用 gzh check --list-rules 查看规则编号",
                     "Rule '{rule_id}' under checks.severity does not exist; see gzh check --list-rules")
_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_INT_TAG = "tag:yaml.org,2002:int"
_STR_TAG = "tag:yaml.org,2002:str"
_FLOAT_TAG = "tag:yaml.org,2002:float"


def load_repository_policy(root: Path) -> Policy:
    """The policy every command uses: `gzh.yml` at the repository root, named relative to it in
    messages, validated in full, including that its default theme is among the root's templates."""
    return load_policy(root / POLICY_FILE, POLICY_FILE, root)


def load_policy(path: Path, display: str | None = None, root: Path | None = None) -> Policy:
    """Load and fully validate the policy; raise ConfigError listing every problem.

    `display` is how messages name the file, normally its path relative to the repository; `root`
    as in `parse_policy`.
    """
    display = display or str(path)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise ConfigError(_NOT_FOUND(path=display)) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(_UNREADABLE(path=display, error=error)) from None
    return parse_policy(text, display, root)


def parse_policy(text: str, path: str, root: Path | None = None) -> Policy:
    """The policy in `text` (named `path` in messages), or ConfigError listing every problem.

    With `root`, the default theme must also be one of the root's templates; the gate, which reads
    the policy from a commit, passes none.
    """
    try:
        document = yamlsource.parse(text, path)
    except yamlsource.YamlSyntaxError as error:
        raise ConfigError(format_problems(path, [error.problem])) from None
    notation, dates = _value_problems(document)
    schema = yamlsource.validate(document, yamlsource.load_schema("policy"))
    problems = _merge(notation, dates, schema, _rule_problems(document))
    if not problems:
        problems = sorted(_cross_reference_problems(document) + _order_problems(document),
                          key=lambda problem: problem.location)
    policy = _build(document) if not problems else None
    if policy is not None:
        problems = sorted(_liveness_problems(document, policy) + _theme_problems(policy, root),
                          key=lambda problem: problem.location)
    if problems or policy is None:
        raise ConfigError(format_problems(path, problems))
    return policy


def format_problems(path: str, problems: list[Problem]) -> str:
    lines = [_INVALID(path=path, count=len(problems))]
    for problem in problems:
        where = f"{problem.key_path}：" if problem.key_path else ""
        lines.append(f"  {problem.location}: {where}{problem.message}")
    return "\n".join(lines)


def _merge(*groups: list[Problem]) -> list[Problem]:
    """All problems in file order; a later group says nothing where an earlier one already spoke
    (`report_hours: 1:30` is about the notation, not about 90 being over the limit)."""
    merged: list[Problem] = []
    taken: set[Location] = set()
    for group in groups:
        fresh = [problem for problem in group if problem.location not in taken]
        taken |= {problem.location for problem in fresh}
        merged += fresh
    return sorted(merged, key=lambda problem: problem.location)


# --- what one field cannot say through the shared schema validator ------------------------------

def _real_date(value: object) -> bool:
    """A `YYYY-MM-DD` text naming a day that exists (not 2026-13-45, not 2026-02-30)."""
    if not isinstance(value, str) or not _DATE_TEXT.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


_FORMATS = jsonschema.FormatChecker(formats=())
_FORMATS.checks("date")(_real_date)


@lru_cache(maxsize=None)
def _format_validator() -> jsonschema.protocols.Validator:
    """The policy schema again, this time asserting `format` (the shared validator ignores it)."""
    shared = yamlsource.load_schema("policy")
    return type(shared)(shared.schema, format_checker=_FORMATS)


def _value_problems(document: yamlsource.YamlDocument) -> tuple[list[Problem], list[Problem]]:
    """Numbers not written in plain decimal, and `format: date` values (or mapping keys, under
    `propertyNames`) that are not real dates, each reported at the value or key itself.

    A notation problem is left to the schema where the schema wants another type there: `name: 1.5`
    is text written as a number, not an integer written as a fraction."""
    dates, mistyped = [], set()
    for error in _format_validator().iter_errors(document.data):
        key_path = tuple(error.absolute_path)
        if error.validator == "type":
            mistyped.add(document.locate(key_path))
        if error.validator != "format":
            continue
        is_key = len(error.relative_schema_path) >= 2 and error.relative_schema_path[-2] == "propertyNames"
        if is_key:
            key_path += (str(error.instance),)
        dates.append(Problem(document.locate(key_path, key=is_key), yamlsource.format_key_path(key_path),
                             _NOT_A_DATE(value=error.instance)))
    notation = [problem for problem in _notation_problems(document) if problem.location not in mistyped]
    return notation, dates


def _scalars(node: yaml.Node | None, key_path: tuple[str | int, ...] = ()
             ) -> Iterator[tuple[tuple[str | int, ...], yaml.ScalarNode]]:
    """Every scalar value node with its key path (keys are names, never numbers, and are checked as
    names); aliases are visited once."""
    stack: list[tuple[yaml.Node | None, tuple[str | int, ...]]] = [(node, key_path)]
    visited: set[int] = set()
    while stack:
        current, path = stack.pop()
        if current is None or id(current) in visited:
            continue
        visited.add(id(current))
        if isinstance(current, yaml.ScalarNode):
            yield path, current
        elif isinstance(current, yaml.MappingNode):
            stack += [(value_node, (*path, str(key_node.value))) for key_node, value_node in current.value
                      if isinstance(key_node, yaml.ScalarNode)]
        elif isinstance(current, yaml.SequenceNode):
            stack += [(item, (*path, index)) for index, item in enumerate(current.value)]


def _notation_problems(document: yamlsource.YamlDocument) -> list[Problem]:
    """Numbers are written as plain decimal integers. YAML 1.1 reads `010` as 8, `0x10` as 16 and
    `1:30` as 90, and JSON Schema takes 10.0 for an integer; none of that belongs in a policy."""
    constructor = yaml.constructor.SafeConstructor()
    problems = []
    for key_path, node in _scalars(document.node):
        if node.tag == _INT_TAG and not _DECIMAL.fullmatch(node.value):
            message = _ODD_INTEGER(text=node.value, value=constructor.construct_yaml_int(node))
        elif node.tag == _FLOAT_TAG:
            value = constructor.construct_yaml_float(node)
            whole = math.isfinite(value) and value.is_integer()
            message = _FRACTION(text=node.value, example=_FRACTION_EXAMPLE(value=int(value)) if whole else "")
        else:
            continue
        mark = node.start_mark
        location = Location(document.path, document.line_offset + mark.line + 1, mark.column + 1)
        problems.append(Problem(location, yamlsource.format_key_path(key_path), message))
    return problems


def _default(name: str) -> Any:
    """A field's default as the Policy dataclass declares it: the one place defaults are written."""
    return Policy.__dataclass_fields__[name].default


def _order_problems(document: yamlsource.YamlDocument) -> list[Problem]:
    """Fields that must agree, reported at the later of the two (the one written, when only one is)."""
    data = document.data
    problems = []
    patrol = data.get("patrol", {})
    warn, fail = patrol.get("warn_days", _default("warn_days")), patrol.get("fail_days", _default("fail_days"))
    if warn >= fail:
        key_path = ("patrol", "fail_days" if "fail_days" in patrol else "warn_days")
        message = _WARN_NOT_BEFORE_FAIL(warn=warn, fail=fail,
                                        warn_default="" if "warn_days" in patrol else _DEFAULT(),
                                        fail_default="" if "fail_days" in patrol else _DEFAULT())
        problems.append(Problem(document.locate(key_path), yamlsource.format_key_path(key_path), message))
    publish = data.get("publish", {})
    mode, per_day = publish.get("mode", _default("publish_mode")), publish.get("mass_per_day", _default("mass_per_day"))
    if mode == "mass" and per_day < 1:
        key_path = ("publish", "mass_per_day")
        problems.append(Problem(document.locate(key_path), yamlsource.format_key_path(key_path), _MASS_NEVER()))
    return problems


def _cross_reference_problems(document: yamlsource.YamlDocument) -> list[Problem]:
    """What a schema cannot say: every username is a known person; slugs and folders are unique."""
    data = document.data
    people = set(data["people"])
    problems = [
        Problem(document.locate(key_path), yamlsource.format_key_path(key_path), _UNKNOWN_PERSON(username=name))
        for key_path, name in _username_references(data)
        if name not in people
    ]
    slugs = {department["slug"] for department in data["departments"]}
    for index, rule in enumerate(data.get("inbox", {}).get("routes", [])):
        if rule["department"] not in slugs:
            key_path = ("inbox", "routes", index, "department")
            problems.append(Problem(document.locate(key_path), yamlsource.format_key_path(key_path),
                                    _UNKNOWN_ROUTE(slug=rule["department"], known="、".join(sorted(slugs)))))
    problems += _notification_problems(document, slugs, people)
    problems += _duplicates(document, "departments", "slug", _SLUG())
    problems += _duplicates(document, "departments", "folder", _FOLDER())
    problems += _duplicates(document, "categories", "slug", _CATEGORY())
    problems += _duplicates(document, "categories", "name", _CATEGORY_NAME())
    problems += _duplicates(document, ("approval", "combined_tiers"), "person", _COMBINED_PERSON())
    return sorted(problems, key=lambda problem: problem.location)


def _notification_problems(document: yamlsource.YamlDocument, slugs: set[str], people: set[str]) -> list[Problem]:
    """Every department and person named under notifications exists, every channel they are sent to
    is defined, and only DingTalk channels carry a signing secret."""
    section = document.data.get("notifications")
    if section is None:
        return []
    channels = section["channels"]
    known = "、".join(sorted(channels))

    def problem(key_path: tuple[str, ...], message: str, *, key: bool = False) -> Problem:
        return Problem(document.locate(("notifications", *key_path), key=key),
                       yamlsource.format_key_path(("notifications", *key_path)), message)

    problems = [problem(("channels", name, "sign"), _SIGN_FOR_WECOM())
                for name, channel in channels.items() if channel["service"] == "wecom" and "sign" in channel]
    for table, names in (("departments", slugs), ("people", people)):
        for name, channel in section.get(table, {}).items():
            if name not in names:
                message = (_UNKNOWN_DEPARTMENT(slug=name, known="、".join(sorted(slugs))) if table == "departments"
                           else _UNKNOWN_PERSON(username=name))
                problems.append(problem((table, name), message, key=True))
            if channel not in channels:
                problems.append(problem((table, name), _UNKNOWN_CHANNEL(name=channel, known=known)))
    management = section.get("management")
    if management is not None and management not in channels:
        problems.append(problem(("management",), _UNKNOWN_CHANNEL(name=management, known=known)))
    return problems


def _rule_problems(document: yamlsource.YamlDocument) -> list[Problem]:
    """Severity overrides must name a rule: a typo there would silently keep the rule's default.

    Read from the YAML nodes, so a key is judged as written: `0x10: error` is the unknown rule
    "0x10" at that key, not a rule named 16. The registry is imported only when there are overrides."""
    severity = _node_at(document.node, ("checks", "severity"))
    if not isinstance(severity, yaml.MappingNode) or not severity.value:
        return []  # absent or empty; any other shape is the schema's to report
    from pipeline.checks.registry import RULE_IDS  # the check stage's (~70 ms to import); it imports this module

    problems = []
    for key_node, _ in severity.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _STR_TAG and key_node.value in RULE_IDS:
            continue
        written = key_node.value if isinstance(key_node, yaml.ScalarNode) else "…"
        mark = key_node.start_mark
        location = Location(document.path, document.line_offset + mark.line + 1, mark.column + 1)
        problems.append(Problem(location, yamlsource.format_key_path(("checks", "severity", written)),
                                _UNKNOWN_RULE(rule_id=written)))
    return problems


def _node_at(node: yaml.Node | None, key_path: tuple[str, ...]) -> yaml.Node | None:
    """The value node at a path of text keys, or None."""
    for part in key_path:
        if not isinstance(node, yaml.MappingNode):
            return None
        node = next((value for key, value in node.value
                     if isinstance(key, yaml.ScalarNode) and key.tag == _STR_TAG and key.value == part), None)
    return node


def _theme_problems(policy: Policy, root: Path | None) -> list[Problem]:
    """The default theme must be one of the repository's, or every render would fail."""
    if root is None or not policy.theme:
        return []
    from pipeline import render  # the render stage knows where themes live; it imports this module

    return render.policy_theme_problems(policy, root)


def _liveness_problems(document: yamlsource.YamlDocument, policy: Policy) -> list[Problem]:
    """Every department's posts must be approvable: its chain of tiers (with and without the
    secrecy office) filled by distinct people, or by people `combined_tiers` lets fill two."""
    from pipeline import approval  # the tiers are the approval stage's; it imports this module for types

    problems = []
    for index, department in enumerate(policy.departments):
        for secrecy in (False, True):
            tiers = approval.department_chain(policy, department, secrecy)
            if approval.fillable(policy, tiers):
                continue
            key_path = ("departments", index, "heads")
            people = "、".join(f"@{name}" for name in dict.fromkeys(m for tier in tiers for m in tier.members))
            message = (_UNFILLABLE_SECRECY if secrecy else _UNFILLABLE)(
                department=department.name, tiers="、".join(tier.name for tier in tiers), people=people)
            problems.append(Problem(document.locate(key_path), yamlsource.format_key_path(key_path), message))
            break  # the plain chain already fails; the secrecy one says nothing new
    return problems


def _username_references(data: dict[str, Any]) -> Iterable[tuple[tuple[str | int, ...], str]]:
    group = data["management_group"]
    yield ("management_group", "leader"), group["leader"]
    for index, name in enumerate(group.get("deputies", [])):
        yield ("management_group", "deputies", index), name
    for role, members in data["roles"].items():
        for index, name in enumerate(members):
            yield ("roles", role, index), name
    roster = data.get("duty_roster", {})
    for table in ("weekdays", "dates"):
        for key, name in roster.get(table, {}).items():
            yield ("duty_roster", table, key), name
    for index, dept in enumerate(data["departments"]):
        for head_index, name in enumerate(dept["heads"]):
            yield ("departments", index, "heads", head_index), name
        yield ("departments", index, "leader_in_charge"), dept["leader_in_charge"]
    for kind, entries in data.get("checks", {}).get("allowlists", {}).items():
        for index, entry in enumerate(entries):
            yield ("checks", "allowlists", kind, index, "approved_by"), entry["approved_by"]
    for index, entry in enumerate(data.get("approval", {}).get("combined_tiers", [])):
        yield ("approval", "combined_tiers", index, "person"), entry["person"]


def _duplicates(document: yamlsource.YamlDocument, table: str | tuple[str, ...], key: str, what: str) -> list[Problem]:
    where = (table,) if isinstance(table, str) else table
    rows: Any = document.data
    for part in where:
        rows = rows.get(part, {}) if isinstance(rows, dict) else {}
    seen: set[str] = set()
    problems = []
    for index, row in enumerate(rows or []):
        if row[key] in seen:
            key_path = (*where, index, key)
            message = _DUPLICATE(what=what, value=row[key])
            problems.append(Problem(document.locate(key_path), yamlsource.format_key_path(key_path), message))
        seen.add(row[key])
    return problems


def _build(document: yamlsource.YamlDocument) -> Policy:
    data = document.data
    checks = data.get("checks", {})
    severities = checks.get("severity", {})
    roster = data.get("duty_roster", {})
    return Policy(
        path=document.path,
        account_name=data["account"]["name"],
        wechat_id=data["account"]["wechat_id"],
        people=MappingProxyType({
            username: Person(username, entry["name"], entry.get("title", ""))
            for username, entry in data["people"].items()
        }),
        leader=data["management_group"]["leader"],
        deputies=tuple(data["management_group"].get("deputies", ())),
        roles=MappingProxyType({role: tuple(members) for role, members in data["roles"].items()}),
        duty_weekdays=MappingProxyType(dict(roster.get("weekdays", {}))),
        duty_dates=MappingProxyType(dict(roster.get("dates", {}))),
        departments=tuple(
            Department(d["slug"], d["name"], d["folder"], tuple(d["heads"]), d["leader_in_charge"])
            for d in data["departments"]
        ),
        categories=tuple(Category(c["slug"], c["name"], c["description"]) for c in data["categories"]),
        severities=MappingProxyType(dict(severities)),
        allowlists=MappingProxyType({
            kind: tuple(AllowEntry(**entry) for entry in entries)
            for kind, entries in checks.get("allowlists", {}).items()
        }),
        theme=data.get("render", {}).get("theme"),
        strict_order=data.get("approval", {}).get("strict_order", _default("strict_order")),
        secrecy_label=data.get("approval", {}).get("secrecy_label", _default("secrecy_label")),
        protected=tuple(ProtectedPaths(tuple(item["paths"]), tuple(item["roles"]))
                        for item in data.get("approval", {}).get("protected", [])),
        other_roles=tuple(data.get("approval", {}).get("other_roles", _default("other_roles"))),
        combined=tuple(CombinedTiers(item["person"], frozenset(item["tiers"]), item["reason"])
                       for item in data.get("approval", {}).get("combined_tiers", [])),
        warn_days=data.get("patrol", {}).get("warn_days", _default("warn_days")),
        fail_days=data.get("patrol", {}).get("fail_days", _default("fail_days")),
        due_days=data.get("patrol", {}).get("due_days", _default("due_days")),
        reply_within_days=data.get("inbox", {}).get("reply_within_days", _default("reply_within_days")),
        routes=tuple(Route(tuple(item["keywords"]), item["department"]) for item in data.get("inbox", {}).get("routes", [])),
        report_hours=data.get("emergency", {}).get("report_hours", _default("report_hours")),
        publish_mode=data.get("publish", {}).get("mode", _default("publish_mode")),
        mass_per_day=data.get("publish", {}).get("mass_per_day", _default("mass_per_day")),
        theme_location=document.locate(("render", "theme")) if "theme" in data.get("render", {}) else None,
        notifications=_notifications(data["notifications"]) if "notifications" in data else None,
    )


def _notifications(section: dict[str, Any]) -> Notifications:
    return Notifications(
        channels=MappingProxyType({name: Channel(name, item["service"], item["key"], item.get("sign", ""))
                                   for name, item in section["channels"].items()}),
        departments=MappingProxyType(dict(section.get("departments", {}))),
        people=MappingProxyType(dict(section.get("people", {}))),
        management=section.get("management", ""),
    )
