"""A Babel extraction method for the report types' parameter forms in lib/reports.

Those forms are plain WTForms in English, and other report types keep being added: rather than
marking each label, their texts are found here without running the module — a field's label
(its first argument; a FieldList's or an output Column's second), `label=`, `description=`
and `message=` arguments, a validator's message, the labels of `(value, "Label")` choice lists assigned to an upper-case
name, and texts marked with `N_(…)`. The web translates them when it draws the form
(`ppc_robot.web.i18n.translate_form`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import IO, Any

TEXT_KEYWORDS = ("label", "description", "message")
VALIDATORS = ("InputRequired", "DataRequired", "Length", "NumberRange", "Regexp", "Optional")
MARKERS = ("N_", "_", "gettext", "ValidationError")  # texts marked, and a form's own refusals


def _string(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) or not isinstance(node, ast.BinOp):
        return None
    left, right = _string(node.left), _string(node.right)  # "a " "b" split over lines
    return left + right if left is not None and right is not None else None


def _call_name(node: ast.Call) -> str:
    return getattr(node.func, "id", "") or getattr(node.func, "attr", "")


def extract_report_forms(fileobj: IO[bytes], keywords: Any, comment_tags: Any,
                         options: Any) -> Iterator[tuple[int, None, str, list[str]]]:
    """Babel extraction method: the user-facing texts of a report type's module."""
    tree = ast.parse(fileobj.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _call_name(node)
            if (name.endswith("Field") or name in VALIDATORS or name in MARKERS) and node.args:
                first = node.args[0]  # "a" if x else "b" gives both
                for option in (first.body, first.orelse) if isinstance(first, ast.IfExp) else (first,):
                    text = _string(option)
                    if text and name != "Regexp":
                        yield option.lineno, None, text, []
            elif (name.endswith("List") or name == "Column") and len(node.args) > 1:
                # FieldList(unbound, "Label"); an output's Column("key", "Label", …), whose
                # label heads the run page's preview
                text = _string(node.args[1])
                if text:
                    yield node.lineno, None, text, []
            for keyword in node.keywords:
                text = _string(keyword.value) if keyword.arg in TEXT_KEYWORDS else None
                if text:
                    yield keyword.value.lineno, None, text, []
                if keyword.arg == "choices" and isinstance(keyword.value, ast.Dict):
                    for group in keyword.value.keys:  # option groups' names
                        if group is not None and _string(group):
                            yield group.lineno, None, _string(group), []
        elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id.isupper() for t in node.targets):
            yield from _choice_labels(node.value)


def _choice_labels(value: ast.AST) -> Iterator[tuple[int, None, str, list[str]]]:
    if not isinstance(value, (ast.List, ast.Tuple)):
        return
    for element in value.elts:
        if isinstance(element, ast.Tuple) and len(element.elts) == 2:
            label = _string(element.elts[1])
            if label and _string(element.elts[0]) is not None:
                yield element.lineno, None, label, []
