"""Repeated sub-forms (WTForms FieldList) edited without JavaScript: add, remove, reorder.

A list's buttons post `LIST_EDIT` = "<action>:<name>" (the page's script does the same in the
browser when it runs): "add:params-rules" appends an entry to that list, "remove:params-rules-1",
"up:params-rules-1" and "down:params-rules-1" act on that entry. `edited_formdata` rewrites the
posted data so, rebuilt from it, the form shows the list changed with everything typed kept,
its entries numbered 0, 1, 2 … again.
"""

from __future__ import annotations

from typing import Any

LIST_EDIT = "list_edit"
ACTIONS = ("add", "remove", "up", "down")


class FormData(dict[str, list[str]]):
    """The `getlist` interface WTForms reads posted data through."""

    def getlist(self, key: str) -> list[str]:
        return list(self.get(key, []))


def _items(formdata: Any) -> list[tuple[str, str]]:
    return [(key, value) for key in formdata for value in formdata.getlist(key)]


def edited_formdata(formdata: Any, edit: str) -> FormData:
    """The posted data with one list edit applied; an edit naming nothing changes nothing."""
    action, _, name = edit.partition(":")
    items = _items(formdata)
    if action == "add":
        list_name, index = name, None
    else:
        list_name, _, number = name.rpartition("-")
        index = int(number) if number.isdigit() else None
    head = list_name + "-"
    groups: dict[int, list[tuple[str, str]]] = {}
    others: list[tuple[str, str]] = []
    for key, value in items:
        number, _, rest = key[len(head):].partition("-") if key.startswith(head) else ("", "", "")
        if number.isdigit():
            groups.setdefault(int(number), []).append((rest, value))
        else:
            others.append((key, value))
    order = sorted(groups)
    if action == "add" and list_name:
        new = (order[-1] + 1) if order else 0
        groups[new] = [("", "")]  # a key that makes the entry exist; its fields take defaults
        order.append(new)
    elif action in ACTIONS and index in groups:
        at = order.index(index)
        if action == "remove":
            order.pop(at)
        elif action == "up" and at > 0:
            order[at - 1], order[at] = order[at], order[at - 1]
        elif action == "down" and at < len(order) - 1:
            order[at + 1], order[at] = order[at], order[at + 1]
    result = FormData()
    for key, value in others:
        result.setdefault(key, []).append(value)
    for position, number in enumerate(order):
        for rest, value in groups[number]:
            result.setdefault(f"{head}{position}-{rest}", []).append(value)
    return result
