"""The number fields every form uses: ids, id lists, bounded integers and decimals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from wtforms import Form

from ppc_robot.lib.bounds import IDS_MAX, PNO, Bound
from ppc_robot.lib.fields import (
    BoundedDecimalField,
    BoundedIntegerField,
    IdField,
    IdListField,
    MoneyField,
)
from ppc_robot.lib.reports.catalogue import _FormData


class _Sample(Form):
    folder_id = IdField(validate_choice=False)
    job_ids = IdListField(validate_choice=False)
    count = BoundedIntegerField(bound=Bound(0, 100, "a count"))
    budget = MoneyField()
    pno = BoundedDecimalField(bound=PNO)


def bound(**values):
    data = _FormData({name: value if isinstance(value, list) else [value]
                      for name, value in values.items()})
    form = _Sample(formdata=data)
    form.validate()
    return form


@pytest.mark.parametrize("value", ["9223372036854775808", "99999999999999999999", "2147483648",
                                   "-1", "x", " ", "1.0", "١", "9" * 5000])
def test_an_id_no_row_can_have_is_not_a_choice(value):
    form = bound(folder_id=value)

    assert form.folder_id.errors == ["Not a valid choice."]
    assert form.folder_id.data is None


def test_an_id_in_range_is_taken_with_surrounding_spaces():
    assert bound(folder_id=" 2147483647 ").folder_id.data == 2_147_483_647


def test_an_id_list_refuses_one_bad_id_and_more_than_its_maximum():
    assert bound(job_ids=["1", "99999999999999999999"]).job_ids.errors
    too_many = bound(job_ids=["1"] * (IDS_MAX + 1))

    assert too_many.job_ids.errors == [f"Choose at most {IDS_MAX:,}."]
    assert too_many.job_ids.data == []
    assert bound(job_ids=["1"] * IDS_MAX).job_ids.data == [1] * IDS_MAX


@pytest.mark.parametrize(("value", "data", "refused"), [
    ("7", 7, False), (" +7 ", 7, False), ("", None, False), ("101", 101, True),
    ("-1", -1, True), ("99999999999999999999", None, True), ("1e3", None, True),
    ("٣", None, True), ("9" * 5000, None, True),
])
def test_a_bounded_integer_says_its_range(value, data, refused):
    form = bound(count=value)

    assert (form.count.errors == ["Give a count from 0 to 100."]) is refused
    if data is not None:
        assert form.count.data == data


@pytest.mark.parametrize("value", ["NaN", "sNaN", "-NaN", "Infinity", "-inf", "1e999999999",
                                   "x", "1" * 200])
def test_a_decimal_refuses_nan_infinity_and_the_huge(value):
    form = bound(budget=value, pno=value)

    assert form.budget.errors and form.pno.errors
    assert form.budget.data is None or form.budget.data.is_finite()


def test_money_and_pno_take_their_bounds_and_refuse_beyond():
    assert bound(budget="999999999999.99", pno="1").errors == {}
    refused = bound(budget="1000000000000", pno="1.0001")

    assert refused.budget.errors == ["Give an amount from 0 to 999,999,999,999.99."]
    assert refused.pno.errors == ["Give a PNO from 0 to 1 (100 %), such as 0.15 for 15 %."]
    assert bound(pno="0.15").pno.data == Decimal("0.15")
