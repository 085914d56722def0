"""Editing a repeated sub-form's posted data: add, remove, move, renumbered, input kept."""

from __future__ import annotations

import pytest

from ppc_robot.lib.form_lists import FormData, edited_formdata

POSTED = FormData({
    "name": ["Rule watch"],
    "params-rules-0-name": ["A"], "params-rules-0-conditions-0-value": ["1"],
    "params-rules-1-name": ["B"], "params-rules-1-conditions-0-value": ["2"],
    "params-rules-1-conditions-1-value": ["-5"],
    "params-rules-2-name": ["C"],
})


def rule_names(data):
    return [data[f"params-rules-{i}-name"][0] for i in range(3) if f"params-rules-{i}-name" in data]


@pytest.mark.parametrize(("edit", "expected"), [
    ("up:params-rules-1", ["B", "A", "C"]),
    ("down:params-rules-1", ["A", "C", "B"]),
    ("up:params-rules-0", ["A", "B", "C"]),  # already first
    ("down:params-rules-2", ["A", "B", "C"]),  # already last
    ("remove:params-rules-0", ["B", "C"]),
    ("remove:params-rules-7", ["A", "B", "C"]),  # names nothing
    ("bogus:params-rules-1", ["A", "B", "C"]),
])
def test_entries_move_and_go_renumbered_with_their_nested_input(edit, expected):
    edited = edited_formdata(POSTED, edit)

    assert rule_names(edited) == expected
    assert edited["name"] == ["Rule watch"]
    moved_b = expected.index("B")
    assert edited[f"params-rules-{moved_b}-conditions-1-value"] == ["-5"]


def test_adding_appends_an_entry_and_a_nested_add_touches_only_its_list():
    added = edited_formdata(POSTED, "add:params-rules")
    condition = edited_formdata(POSTED, "add:params-rules-1-conditions")

    assert "params-rules-3-" in added and rule_names(added) == ["A", "B", "C"]
    assert "params-rules-1-conditions-2-" in condition
    assert condition["params-rules-1-conditions-1-value"] == ["-5"]
