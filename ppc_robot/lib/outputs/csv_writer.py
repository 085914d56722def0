"""CSV output: UTF-8 (with a BOM so Excel detects it), a chosen delimiter, RFC 4180 quoting.

Plain data, no totals row. Numbers are written for machines to read back: a dot for the
decimal point, no thousands separator; money rounded to its currency's minor unit (CZK and EUR
cents, JPY whole yen), ROAS and other ratios to two decimals, percentages (CTR, conversion
rate, PNO, changes in %) as percent with two decimals under a header ending "(%)" (3.12 means
3.12 %), exchange rates to six decimals, other decimals (conversions) to at most two.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from ppc_robot.lib.outputs.columns import Column, ColumnKind, neutralise_formula

try:  # Babel knows every currency's minor unit; without it, ISO 4217's exceptions below.
    from babel.numbers import get_currency_precision as _babel_precision
except ImportError:  # pragma: no cover - depends on the installation
    _babel_precision = None

# ISO 4217 currencies whose minor unit is not the cent (all others: two decimals).
MINOR_UNITS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX",
                     "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}


def currency_places(currency: str | None) -> int:
    """Decimal places of the currency's minor unit (2 when unknown)."""
    if not currency:
        return 2
    if _babel_precision is not None:
        return int(_babel_precision(currency))
    return MINOR_UNITS.get(currency.upper(), 2)


def _rounded(value: Any, places: int) -> str:
    return f"{Decimal(str(value)).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP):f}"


def _cell(column: Column, value: Any, currency: str | None) -> str:
    if value is None:
        return ""
    kind = column.kind
    if kind is ColumnKind.TEXT:
        return neutralise_formula(str(value))
    if kind is ColumnKind.MONEY:
        return _rounded(value, currency_places(currency))
    if kind is ColumnKind.RATIO:
        return _rounded(value, 2)
    if kind is ColumnKind.PERCENT:
        return _rounded(Decimal(str(value)) * 100, 2)
    if kind is ColumnKind.RATE:
        return _rounded(value, 6)
    if kind is ColumnKind.DECIMAL:
        text = _rounded(value, 2)
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


def csv_label(column: Column) -> str:
    """The header of a column in a CSV: percentages say their unit."""
    if column.kind is ColumnKind.PERCENT and not column.label.endswith("%"):
        return f"{column.label} (%)"
    return column.label


def write_csv(path: Path, columns: Sequence[Column], rows: Iterable[Sequence[Any]],
              *, delimiter: str = ",", last_row: str | None = None, currency: str | None = None,
              currency_column: str = "currency") -> int:
    """Write rows (tuples in column order) to `path`; returns the number of data rows.

    Money is rounded to the minor unit of the row's `currency_column` (else of `currency`).
    `last_row` (a partial report's note) ends the file as a row of its own: the text in the
    first cell, the others empty, so every line keeps the header's number of cells.
    """
    count = 0
    names = [c.name for c in columns]
    at = names.index(currency_column) if currency_column in names else None
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        writer.writerow([csv_label(c) for c in columns])
        for row in rows:
            row_currency = str(row[at]) if at is not None and row[at] else currency
            writer.writerow([_cell(c, v, row_currency) for c, v in zip(columns, row, strict=True)])
            count += 1
        if last_row:
            writer.writerow([neutralise_formula(last_row)] + [""] * (len(columns) - 1))
    return count
