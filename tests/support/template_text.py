"""Finds the user-facing text of a Jinja template that is not marked for translation.

Read with Jinja's own lexer, so every finding carries its line: bare text between HTML tags,
text attributes (title, placeholder, aria-label, alt), and string literals a template shows
(the user-facing keyword arguments of a macro call, the branches of an inline `if`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from jinja2 import Environment

# Names, codes and symbols that read the same in every language.
ALLOWED = {
    "PPC Robot", "Google Ads", "Microsoft Advertising", "Sklik", "Google Sheets", "Slack",
    "CSV", "XLSX", "ROAS", "PNO", "CPA", "CPC", "CTR", "ID", "UTC", "OAuth", "API", "URL",
    "E-mail", "JSON", "Chart.js", "Bootstrap", "CZK", "EUR", "USD",
}
TEXT_ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")
USER_KEYWORDS = {"title", "submit", "text", "label", "action_label", "cancel_label", "message",
                 "placeholder", "heading", "confirm", "hint", "button", "empty"}
_LETTER = re.compile(r"[^\W\d_]{2,}")
_ATTRIBUTE = re.compile(r'\b(' + "|".join(TEXT_ATTRIBUTES) + r')="([^"{}]*)"')
_ENTITY = re.compile(r"&[a-z]+;|&#\d+;")


@dataclass(frozen=True)
class Finding:
    line: int
    text: str
    kind: str  # "text", "attribute" or "literal"
    start: int  # offsets in the source, for tools that wrap what was found
    end: int


def needs_translation(text: str) -> bool:
    core = _ENTITY.sub(" ", text).strip(" \t\n·—–-×:;,.()[]/|+%#*")
    return bool(_LETTER.search(core)) and core not in ALLOWED


def _env() -> Environment:
    return Environment(extensions=["jinja2.ext.i18n"])


def untranslated(source: str) -> Iterator[Finding]:
    """Every piece of user-facing text in `source` outside `{% trans %}` and `_()`."""
    tokens = list(_env().lex(source))
    offset, in_tag, skip_until, in_trans, quote = 0, False, None, False, None
    block: list[tuple[int, str, str]] = []
    lines = [0]
    for n, char in enumerate(source):
        if char == "\n":
            lines.append(n + 1)
    for _lineno, kind, value in tokens:
        start = source.find(value, offset) if value else offset
        if start < 0:
            start = offset
        offset = start + len(value)
        if kind in ("block_begin", "variable_begin"):
            block = []
        block.append((start, kind, value))
        if kind == "block_end" and len(block) > 2:
            names = [v for _, k, v in block if k == "name"]
            if names[:1] == ["trans"]:
                in_trans = True
            elif names[:1] == ["endtrans"]:
                in_trans = False
        if kind in ("block_end", "variable_end"):
            yield from _literals(block, lines)
        if kind != "data" or in_trans:
            continue
        position = 0
        text_start = None
        while position < len(value):
            char = value[position]
            if skip_until:
                found = value.lower().find(skip_until, position)
                if found < 0:
                    position = len(value)
                    continue
                position = found + len(skip_until)
                skip_until = None
                continue
            if in_tag:
                if quote:
                    if char == quote:
                        quote = None
                elif char in "\"'":
                    quote = char
                elif char == ">":
                    in_tag = False
                position += 1
                continue
            if char == "<":
                if text_start is not None:
                    yield from _text(source, start + text_start, start + position, lines)
                    text_start = None
                tag = re.match(r"<(/?)([a-zA-Z0-9!-]+)", value[position:])
                name = tag.group(2).lower() if tag else ""
                if value.startswith("<!--", position):
                    skip_until = "-->"
                elif name in ("script", "style") and not tag.group(1):
                    skip_until = f"</{name}"
                in_tag = True
                end = _tag_end(value, position)
                for match in _ATTRIBUTE.finditer(value, position, end):
                    if needs_translation(match.group(2)):
                        yield Finding(_line(lines, start + match.start(2)), match.group(2),
                                      "attribute", start + match.start(2), start + match.end(2))
                position += 1
                continue
            if text_start is None:
                text_start = position
            position += 1
        if text_start is not None and not in_tag:
            yield from _text(source, start + text_start, start + len(value), lines)


def _tag_end(value: str, position: int) -> int:
    end = value.find(">", position)
    return len(value) if end < 0 else end


def _line(lines: list[int], offset: int) -> int:
    low, high = 0, len(lines) - 1
    while low < high:
        middle = (low + high + 1) // 2
        if lines[middle] <= offset:
            low = middle
        else:
            high = middle - 1
    return low + 1


def _text(source: str, begin: int, end: int, lines: list[int]) -> Iterator[Finding]:
    piece = source[begin:end]
    if needs_translation(piece):
        lead = len(piece) - len(piece.lstrip())
        core = piece.strip()
        yield Finding(_line(lines, begin + lead), core, "text", begin + lead,
                      begin + lead + len(core))


def _literals(block: list[tuple[int, str, str]], lines: list[int]) -> Iterator[Finding]:
    """String literals of one `{{ }}` or `{% %}` that are shown: keyword arguments with a
    user-facing name, the branches of an inline if in an output, not inside a `_()` call."""
    significant = [(s, k, v) for s, k, v in block if k != "whitespace"]
    is_output = bool(significant) and significant[0][1] == "variable_begin"
    depth_in_gettext: list[int] = []
    depth = 0
    for n, (start, kind, value) in enumerate(significant):
        if kind == "operator" and value in "([{":
            depth += 1
            if n > 0 and significant[n - 1][2] in ("_", "gettext", "ngettext", "url_for"):
                depth_in_gettext.append(depth)
            continue
        if kind == "operator" and value in ")]}":
            if depth_in_gettext and depth_in_gettext[-1] == depth:
                depth_in_gettext.pop()
            depth -= 1
            continue
        if kind != "string" or depth_in_gettext or not needs_translation(value[1:-1]):
            continue
        before = [v for _, _, v in significant[max(0, n - 2):n]]
        after = significant[n + 1][2] if n + 1 < len(significant) else ""
        keyword = len(before) == 2 and before[1] in "=:" and before[0].strip("'\"") in USER_KEYWORDS
        joined = before[-1:] == ["~"] or after == "~"
        branch = is_output and depth == 0 and (before[-1:] == ["else"] or after == "if")
        branch = branch or (is_output and depth == 0 and len(significant) == 3)
        # A lone lowercase word in a branch is a CSS class or a key ('danger'), not text.
        prose = " " in value[1:-1].strip() or value[1:2].isupper()
        positional = depth > 0 and before[-1:] in (["("], [","]) and after in (",", ")")
        if keyword or ((branch or joined or positional) and prose):
            yield Finding(_line(lines, start), value[1:-1], "literal", start,
                          start + len(value))
