"""YAML with positions: parse, validate against a JSON Schema, and say where a problem is.

Both the policy file and post front matter are hand-written YAML, often in a web editor. Users
need `path:line:col`, the key path and a fix, in Chinese. PyYAML gives positions only for syntax
errors and jsonschema gives none, so this module keeps the composed node tree next to the data and
maps every schema error back to the node it concerns.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Iterator

import jsonschema
import yaml

from pipeline.i18n import Text, language

try:  # libyaml is ~10x faster; fall back to pure Python where it is not compiled in
    _BaseLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _BaseLoader = yaml.SafeLoader


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """Safe loader that keeps dates as text and only true/false as booleans.

    YAML 1.1 reads `no`, `off` and `2026-12-01 9:00`-like values in surprising ways; posts are
    written by non-programmers, so values stay text and each field parses its own format.
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass(frozen=True, order=True)
class Location:
    """A 1-based position in a file, printed the way editors and CI annotations expect."""

    path: str
    line: int = 1
    col: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a YAML document: where, which key, what and how to fix it."""

    location: Location
    key_path: str
    message: str


class YamlSyntaxError(Exception):
    """The document cannot be read: one parser error, or every keyboard slip found on its lines."""

    def __init__(self, *problems: Problem) -> None:
        super().__init__(str(problems[0].location), problems[0].message)
        self.problems = problems
        self.problem = problems[0]


@dataclass(frozen=True)
class YamlDocument:
    data: Any
    node: yaml.Node | None
    path: str
    line_offset: int = 0

    def locate(self, key_path: tuple[str | int, ...], *, key: bool = False) -> Location:
        """Where `key_path` is; the deepest existing ancestor when the path does not exist.

        With `key=True` the position of the mapping key itself is returned (for unknown keys).
        """
        node = self.node
        found_key: yaml.Node | None = None
        for part in key_path:
            child = _child(node, part)
            if child is None:
                break
            found_key, node = child
        target = found_key if key and found_key is not None else node
        if target is None:
            return Location(self.path, self.line_offset + 1, 1)
        mark = target.start_mark
        return Location(self.path, self.line_offset + mark.line + 1, mark.column + 1)


def _child(node: yaml.Node | None, part: str | int) -> tuple[yaml.Node | None, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == str(part):
                return key_node, value_node
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        return None, node.value[part]
    return None


_SYNTAX_HINTS: tuple[tuple[str, Text], ...] = (
    ("mapping values are not allowed", Text(
        "这里出现了多余的冒号。值里含有“: ”时，请用英文引号把整个值括起来，例如 title: \"通知：xxx\"",
        "Unexpected colon. Quote a value that contains ': ', e.g. title: \"Notice: x\"")),
    ("found character '\\t'", Text(
        "YAML 不允许用 Tab 缩进，请改用空格", "YAML does not allow tabs for indentation; use spaces")),
    ("could not find expected ':'", Text(
        "这一行缺少“键: 值”中的冒号，或上一行的引号没有闭合", "Missing ':' after a key, or an unclosed quote above")),
    ("did not find expected key", Text(
        "缩进不一致：同一层的字段必须左对齐", "Inconsistent indentation: keys at one level must line up")),
    ("expected <block end>", Text(
        "缩进不一致：同一层的字段必须左对齐", "Inconsistent indentation: keys at one level must line up")),
    ("did not find expected ',' or ", Text(
        "方括号 [ ] 或花括号 { } 没有闭合。值以 [ 或 { 开头时，请用英文引号把整个值括起来",
        "An unclosed [ ] or { }; quote a value that starts with [ or {")),
    ("found unexpected end of stream", Text(
        "引号或括号没有闭合", "An unclosed quote or bracket")),
    ("found undefined alias", Text(
        "引用了未定义的锚点（*名称），请删除或先用 &名称 定义", "Undefined alias (*name); define it with &name first")),
    ("found duplicate anchor", Text(
        "锚点名称重复", "Duplicate anchor name")),
)
_SYNTAX_FALLBACK = Text("YAML 语法错误：{problem}", "YAML syntax error: {problem}")
_DUPLICATE_KEY = Text("字段“{key}”重复出现，后一个会覆盖前一个。请删除其中一个",
                      "Key '{key}' appears twice; the later one would silently win. Remove one")


def _syntax_message(error: yaml.YAMLError) -> str:
    problem = str(getattr(error, "problem", "") or error)
    for needle, text in _SYNTAX_HINTS:
        if needle in problem:
            return text()
    return _SYNTAX_FALLBACK(problem=problem)


def parse(text: str, path: str, line_offset: int = 0) -> YamlDocument:
    """Parse one YAML document, raising YamlSyntaxError with a located Chinese message.

    Keyboard slips (see `slips`) are looked for first: the parser notices them lines later, if at
    all, and in words about tokens, while the slip itself has a plain fix on its own line.
    """
    found = slips(text, path, line_offset)
    if found:
        raise YamlSyntaxError(*found)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        _reject_duplicate_keys(node, path, line_offset)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise YamlSyntaxError(Problem(Location(path, line_offset + line, col), "", _syntax_message(error))) from None
    except yaml.YAMLError as error:  # e.g. a reader error on a control character
        raise YamlSyntaxError(Problem(Location(path, line_offset + 1, 1), "", _syntax_message(error))) from None
    except (TypeError, ValueError, RecursionError) as error:  # unhashable keys, absurd nesting
        raise YamlSyntaxError(Problem(Location(path, line_offset + 1, 1), "", _SYNTAX_FALLBACK(problem=error))) from None
    finally:
        loader.dispose()
    return YamlDocument(data, node, path, line_offset)


# --- keyboard slips ---------------------------------------------------------------------------
#
# What a Chinese keyboard does to hand-written YAML: a full-width colon or space where YAML needs an
# ASCII one, a tab, a colon with no space after it, a quote left open. Each is looked for only where
# it breaks the document or changes what it says: at a field's name (an ASCII key at the start of a
# line), never inside a value (`basis: 依据：……`, `url: https://…` are fine) nor in comments or
# block scalars (`|`, `>`), whose lines are text.

_FIELD = re.compile(r"(?P<lead>[ \t\u3000]*(?:-[ \t]+)?)(?P<key>[A-Za-z_][A-Za-z0-9_-]*)(?P<rest>.*)")
_FIELD_START = re.compile(r"[ ]*(?:-[ ]+)?[A-Za-z_][A-Za-z0-9_-]*[ ]*:(?:[ ]|$)")
_BLOCK_SCALAR = re.compile(r":[ \t]+[|>][0-9+-]*[ \t]*(?:#.*)?$")
_SHOWN = 60  # characters of a corrected line quoted in a message
_MAX_SLIPS = 20  # a screenful: enough to fix in one go, and a file made of slips stays cheap to report

_TAB = Text("这一行开头用了 Tab 键缩进，YAML 不允许 Tab。请删掉 Tab，改用空格缩进（同一层的字段左对齐）",
            "This line is indented with a tab, which YAML does not allow. Indent with spaces instead")
_WIDE_INDENT = Text(
    "这一行开头有全角空格（中文输入法打出的空格），YAML 只认半角空格。请删掉它，改用半角空格缩进（同一层的字段左对齐）",
    "This line starts with a full-width space, which YAML does not read as indentation. Use ASCII spaces")
_WIDE_COLON = Text("字段名“{key}”后面是中文冒号“：”，YAML 只认英文冒号。请改成英文冒号加一个空格：{fixed}",
                   "The field name '{key}' is followed by a full-width colon; YAML needs ':' and a space: {fixed}")
_WIDE_SPACE = Text("“{key}:”后面是全角空格（中文输入法打出的空格），YAML 要求冒号后面是半角空格。请改为：{fixed}",
                   "'{key}:' is followed by a full-width space; YAML needs an ASCII space after the colon: {fixed}")
_NO_SPACE = Text("“{key}:”后面缺少空格，YAML 会把整行当成一段文字，而不是“字段: 值”。请在冒号后面加一个空格：{fixed}",
                 "'{key}:' has no space after it, so YAML reads the whole line as text, not a field: {fixed}")
_OPEN_QUOTE = Text(
    "“{key}”的值以英文引号 {quote} 开头，但这一行没有结束的 {quote}，下面的字段会被当成这个值的一部分。"
    "请在值的末尾补上 {quote}（或删掉开头的 {quote}）：{fixed}",
    "The value of '{key}' opens a quote {quote} that this line never closes, so the fields below would become "
    "part of it. Close it at the end (or remove the opening {quote}): {fixed}")
_EARLY_QUOTE = Text(
    "“{key}”的值在英文引号 {quote} 结束后还有文字“{after}”。整个值要放在一对引号里面；值里本身要用引号时，请改用中文引号“”",
    "The value of '{key}' goes on after its closing quote {quote} ('{after}'). Keep the whole value inside "
    "one pair of quotes; for quotes inside it use Chinese quotes “”")


def slips(text: str, path: str, line_offset: int = 0) -> list[Problem]:
    """Every keyboard slip on the document's lines, each at its own line and column with its fix."""
    lines = text.split("\n")
    found: list[Problem] = []
    block_indent: int | None = None  # lines indented deeper than this belong to a block scalar
    for index, line in enumerate(lines):
        indent = len(line) - len(line.lstrip(" "))
        if block_indent is not None and (not line.strip() or indent > block_indent):
            continue
        block_indent = indent if _BLOCK_SCALAR.search(line) else None
        slip = _slip(line, lines, index)
        if slip is not None:
            col, message = slip
            found.append(Problem(Location(path, line_offset + index + 1, col), "", message))
            if len(found) == _MAX_SLIPS:
                break
    return found


def _slip(line: str, lines: list[str], index: int) -> tuple[int, str] | None:
    """(1-based column, message) of the slip on `line` (lines[index]), if it has one."""
    match = _FIELD.fullmatch(line)
    if match is None:
        tab = line.find("\t", 0, len(line) - len(line.lstrip(" \t")))
        return (tab + 1, _TAB()) if tab >= 0 else None
    lead, key, rest = match["lead"], match["key"], match["rest"]
    if "\t" in lead:
        return lead.index("\t") + 1, _TAB()
    if "\u3000" in lead:
        return lead.index("\u3000") + 1, _WIDE_INDENT()
    colon = len(lead) + len(key) + len(rest) - len(rest.lstrip(" \u3000"))  # 0-based, past any space
    after = rest.lstrip(" \u3000")
    if after.startswith("："):
        return colon + 1, _WIDE_COLON(key=key, fixed=_field(lead, key, after[1:]))
    if not rest.startswith(":") or rest.startswith("://"):
        return None
    value = rest[1:]
    if value.startswith("\u3000"):
        return colon + 2, _WIDE_SPACE(key=key, fixed=_field(lead, key, value))
    if value and value[0] not in " \t":
        return colon + 1, _NO_SPACE(key=key, fixed=_field(lead, key, value))
    return _quote_slip(line, key, value, lines, index)


def _field(lead: str, key: str, value: str) -> str:
    """The line as it should read, without its indentation (quoted inside a sentence, it would not show)."""
    dash = lead.strip()
    return _short(f"{dash} {key}" if dash else key, _SHOWN) + ": " + _short(value.lstrip(" \u3000"), _SHOWN)


def _next_line(lines: list[str], index: int) -> str | None:
    """The first line after lines[index] that is neither blank nor a comment."""
    return next((line for line in (lines[later] for later in range(index + 1, len(lines)))
                 if line.strip() and not line.lstrip().startswith("#")), None)


def _quote_slip(line: str, key: str, value: str, lines: list[str], index: int) -> tuple[int, str] | None:
    text = value.strip(" \t")
    if not text or text[0] not in "\"'":
        return None
    quote, start = text[0], line.index(text[0], len(line) - len(value))
    end = _closing_quote(text, quote)
    if end is None:
        following = _next_line(lines, index)
        if following is None or _FIELD_START.match(following):  # the quote would swallow the next field
            return start + 1, _OPEN_QUOTE(key=key, quote=quote, fixed=_short(line.strip() + quote, _SHOWN))
        return None
    trailing = text[end + 1:].strip(" \t")
    if trailing and not trailing.startswith("#"):
        return start + end + 1, _EARLY_QUOTE(key=key, quote=quote, after=_short(trailing, 20))
    return None


def _closing_quote(text: str, quote: str) -> int | None:
    """Index in `text` (which opens with `quote`) of the quote that closes it: `\\"` escapes in double
    quotes, `''` in single quotes."""
    index = 1
    while index < len(text):
        char = text[index]
        if quote == '"' and char == "\\":
            index += 2
            continue
        if char == quote:
            if quote == "'" and text[index + 1:index + 2] == "'":
                index += 2
                continue
            return index
        index += 1
    return None


def _reject_duplicate_keys(node: yaml.Node | None, path: str, line_offset: int) -> None:
    for mapping in _mappings(node):
        seen: set[str] = set()
        for key_node, _ in mapping.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            if key_node.value in seen:
                mark = key_node.start_mark
                location = Location(path, line_offset + mark.line + 1, mark.column + 1)
                raise YamlSyntaxError(Problem(location, key_node.value, _DUPLICATE_KEY(key=key_node.value)))
            seen.add(key_node.value)


def _mappings(node: yaml.Node | None) -> Iterator[yaml.MappingNode]:
    stack = [node]
    visited: set[int] = set()
    while stack:
        current = stack.pop()
        if current is None or id(current) in visited:
            continue
        visited.add(id(current))  # aliases make the node graph cyclic
        if isinstance(current, yaml.MappingNode):
            yield current
            stack.extend(value for pair in current.value for value in pair)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)


# --- schema validation -------------------------------------------------------------------------

@lru_cache(maxsize=None)
def load_schema(name: str) -> jsonschema.protocols.Validator:
    """A validator for `pipeline/data/<name>.schema.yml`; schemas are data, not code."""
    text = resources.files("pipeline").joinpath("data", f"{name}.schema.yml").read_text("utf-8")
    schema = yaml.load(text, Loader=_Loader)
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate(document: YamlDocument, validator: jsonschema.protocols.Validator) -> list[Problem]:
    """Every schema problem in the document, in file order."""
    problems = [_problem(document, error) for error in _leaf_errors(validator.iter_errors(document.data))]
    return sorted(set(problems), key=lambda problem: problem.location)


def _leaf_errors(errors: Iterator[jsonschema.ValidationError]) -> Iterator[jsonschema.ValidationError]:
    # For oneOf/anyOf the most specific sub-error tells the user more than "matched none".
    for error in errors:
        if error.context:
            yield jsonschema.exceptions.best_match(error.context)
        else:
            yield error


def format_key_path(parts: tuple[str | int, ...]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


_TYPE_NAMES = {
    "string": Text("文本", "text"), "integer": Text("整数", "an integer"), "number": Text("数字", "a number"),
    "boolean": Text("true 或 false", "true or false"), "array": Text("列表", "a list"),
    "object": Text("一组“键: 值”", "a mapping"), "null": Text("空值", "empty"),
}
_MESSAGES = {
    "required": Text("缺少必填字段“{name}”{hint}", "Missing required field '{name}'{hint}"),
    "additionalProperties": Text("未知字段“{name}”。可用的字段：{allowed}", "Unknown field '{name}'. Allowed: {allowed}"),
    "type": Text("应为{expected}，实际是{actual}", "Expected {expected}, got {actual}"),
    "enum": Text("“{value}”不是允许的取值，应为以下之一：{allowed}", "'{value}' is not allowed; use one of: {allowed}"),
    "const": Text("应为“{allowed}”", "Must be '{allowed}'"),
    "minLength": Text("不能为空", "Must not be empty"),
    "maxLength": Text("最多 {limit} 个字符，现在是 {actual_length} 个", "At most {limit} characters, found {actual_length}"),
    "minItems": Text("至少需要 {limit} 项", "Needs at least {limit} item(s)"),
    "uniqueItems": Text("列表中有重复项", "The list has duplicates"),
    "pattern": Text("“{value}”格式不对。{hint}", "'{value}' has the wrong format. {hint}"),
    "minimum": Text("不能小于 {limit}", "Must be at least {limit}"),
    "maximum": Text("不能大于 {limit}", "Must be at most {limit}"),
}
_FALLBACK = Text("取值不符合要求：{detail}", "Invalid value: {detail}")
_OR = Text("或", " or ")
_SENTENCE = Text("。", ". ")


def _problem(document: YamlDocument, error: jsonschema.ValidationError) -> Problem:
    key_path = tuple(error.absolute_path)
    kind = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    hint = _hint(schema)
    if kind == "required":
        missing = [name for name in error.validator_value if name not in (error.instance or {})]
        name = missing[0] if missing else ""
        field_hint = _hint(schema.get("properties", {}).get(name, {}))
        message = _MESSAGES[kind](name=name, hint=f"{_SENTENCE()}{field_hint}" if field_hint else "")
        return Problem(document.locate(key_path), format_key_path(key_path), message)
    if kind == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extra = [name for name in error.instance if name not in allowed]
        name = str(extra[0]) if extra else ""
        path = key_path + (name,)
        message = _MESSAGES[kind](name=name, allowed="、".join(allowed))
        return Problem(document.locate(path, key=True), format_key_path(path), message)
    template = _MESSAGES.get(str(kind))
    if template is None:
        message = _FALLBACK(detail=error.message)
    else:
        message = template(
            expected=_type_name(error.validator_value), actual=_type_name(_json_type(error.instance)),
            value=_short(error.instance), allowed="、".join(map(str, _as_list(error.validator_value))),
            limit=error.validator_value, hint=hint,
            actual_length=len(error.instance) if isinstance(error.instance, str) else 0,
        )
    if hint and kind != "pattern":  # the pattern message already ends with the hint
        message = f"{message}{_SENTENCE()}{hint}"
    return Problem(document.locate(key_path), format_key_path(key_path), message)


def _hint(schema: dict[str, Any]) -> str:
    """Schemas carry their own fix hints (`x-hint-zh` / `x-hint-en`) next to the rule they explain."""
    return str(schema.get(f"x-hint-{language()}", schema.get("x-hint-zh", "")))


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _type_name(value: Any) -> str:
    names = [_TYPE_NAMES[name]() if name in _TYPE_NAMES else str(name) for name in _as_list(value)]
    return _OR().join(names)


def _json_type(value: Any) -> str:
    for name, kind in (("null", type(None)), ("boolean", bool), ("integer", int), ("number", float),
                       ("string", str), ("array", list), ("object", dict)):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _short(value: Any, limit: int = 40) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
