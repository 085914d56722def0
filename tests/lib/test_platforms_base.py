"""Money conversions and the report request's checks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ppc_robot.lib.platforms import RemoteAccount, ReportRequest
from ppc_robot.lib.platforms.base import micros_to_money, to_decimal

ACCOUNT = RemoteAccount("1", "A", "CZK", "Europe/Prague")


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_micros_convert_exactly(micros: int) -> None:
    money = micros_to_money(str(micros))
    assert money * 1_000_000 == micros
    assert micros_to_money(micros) == money


def test_json_numbers_become_exact_decimals() -> None:
    assert to_decimal(4590.5) == Decimal("4590.5")
    assert to_decimal(0.1) == Decimal("0.1")
    assert to_decimal("1011.200001") == Decimal("1011.200001")
    assert to_decimal(None) == 0 and to_decimal("") == 0


def test_report_request_refuses_unknown_dimensions_and_reversed_ranges() -> None:
    with pytest.raises(ValueError, match="unknown dimensions"):
        ReportRequest(ACCOUNT, date(2026, 8, 1), date(2026, 8, 2), ("date", "weather"))
    with pytest.raises(ValueError, match="before"):
        ReportRequest(ACCOUNT, date(2026, 8, 2), date(2026, 8, 1))
