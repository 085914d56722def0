"""The bounds of every number a user can send: ids, money, ratios and counts.

Forms refuse out-of-range values beside the field (`ppc_robot.lib.fields`); lib checks them
again where they are stored (`check_number`), since forms are not the only path. Both read
the same `Bound`, so the message is the same whichever refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ppc_robot.lib.errors import PpcRobotError

# Primary keys are 32-bit INTEGER columns on PostgreSQL; no row has a larger id, and a larger
# number must not reach a query (SQLite raises OverflowError beyond 64 bits).
ID_MAX = 2**31 - 1
# At most this many ids in one form field: far above any list page, far below the number of
# parameters SQLite and PostgreSQL take in one statement.
IDS_MAX = 10_000


def describe(minimum: Decimal | int, maximum: Decimal | int) -> str:
    """'from 0 to 999,999,999,999.99': a range as the user reads it in a message."""
    return f"from {_number(minimum)} to {_number(maximum)}"


def _number(value: Decimal | int) -> str:
    if isinstance(value, Decimal) and value != value.to_integral_value():
        return f"{value:,}"
    return f"{int(value):,}"


@dataclass(frozen=True)
class Bound:
    """The allowed range of one kind of number, and the sentence that says so."""

    minimum: Decimal | int
    maximum: Decimal | int
    what: str = "a number"
    note: str = ""

    @property
    def message(self) -> str:
        return f"Give {self.what} {describe(self.minimum, self.maximum)}{self.note}."

    def contains(self, value: Decimal | int) -> bool:
        return self.minimum <= value <= self.maximum


# MONEY is NUMERIC(14, 2): twelve digits before the point.
MONEY = Bound(0, Decimal("999999999999.99"), "an amount")
ROAS = Bound(0, 100_000, "a ROAS")
# PNO is cost ÷ conversion value as a fraction: 1 is 100 %.
PNO = Bound(0, 1, "a PNO", " (100 %), such as 0.15 for 15 %")
PERCENT = Bound(0, 100, "a percentage")
COUNT = Bound(0, 1_000_000_000, "a whole number")
PLAN_LIMIT = Bound(0, 10_000_000, "a whole number")
INTERVAL_MINUTES = Bound(1, 366 * 24 * 60, "a number of minutes")


class OutOfRangeError(PpcRobotError):
    """A number outside what its field allows; `field` names the field."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def check_number(field: str, value: Decimal | int | None, bound: Bound) -> None:
    """Refuse a value (None passes) that is not a finite number within `bound`.

    Raises OutOfRangeError naming `field`.
    """
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise OutOfRangeError(bound.message, field=field)
    if isinstance(value, Decimal) and not value.is_finite():
        raise OutOfRangeError(f"Give a number, not NaN or infinity. {bound.message}", field=field)
    if not bound.contains(value):
        raise OutOfRangeError(bound.message, field=field)


def parse_int(text: str | None, *, minimum: int = 0, maximum: int = ID_MAX) -> int | None:
    """A whole number written in plain digits within [minimum, maximum], or None.

    Blank (or None) is None, and so is anything else: a sign, a fraction, other scripts'
    digits, or a number out of bounds. For query arguments, where a bad value filters nothing.
    """
    if text is None:
        return None
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 20:
        return None
    number = int(text)
    return number if minimum <= number <= maximum else None


def parse_decimal(text: str) -> Decimal | None:
    """A finite decimal number, or None (NaN, infinity or not a number)."""
    try:
        value = Decimal(text.strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None
