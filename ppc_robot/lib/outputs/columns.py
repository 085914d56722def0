"""How a report's columns are presented: label, kind (number format), width."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal


class ColumnKind(enum.StrEnum):
    TEXT = "text"
    DATE = "date"
    INTEGER = "integer"
    DECIMAL = "decimal"
    MONEY = "money"
    PERCENT = "percent"
    RATIO = "ratio"
    RATE = "rate"  # an exchange rate: six decimals


@dataclass(frozen=True)
class Sum:
    """The column totals as the sum of its rows (an additive metric)."""


@dataclass(frozen=True)
class Ratio:
    """The column totals as `scale` × total of `numerator` / total of `denominator`."""

    numerator: str
    denominator: str
    scale: Decimal = Decimal(1)


@dataclass(frozen=True)
class Difference:
    """The column totals as total of `minuend` − total of `subtrahend` (a change)."""

    minuend: str
    subtrahend: str


@dataclass(frozen=True)
class Change:
    """The column totals as (total of `current` − total of `previous`) / total of `previous`."""

    current: str
    previous: str


SUM = Sum()
Total = Sum | Ratio | Difference | Change


@dataclass(frozen=True)
class Column:
    name: str
    label: str
    kind: ColumnKind = ColumnKind.TEXT
    # For colouring against a client's goal: "lower" (CPA, PNO) or "higher" (ROAS) is better.
    better: str | None = None
    # How the column's totals row is computed (lib/outputs/totals.py); None: no total.
    total: Total | None = None

    @property
    def width(self) -> int:
        return {ColumnKind.TEXT: 32, ColumnKind.DATE: 12}.get(self.kind, 14)


# Spreadsheet programs run cells that start with these as formulas (ASVS 5.0 1.2.10).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\x00")


def neutralise_formula(value: str) -> str:
    """Text that a spreadsheet would take for a formula gets a leading apostrophe."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value
