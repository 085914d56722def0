"""Totals rows, one per currency, for every table output, driven by the column definitions.

A column declares how it totals (`Column.total`):

- `SUM`: additive (impressions, clicks, cost, conversions): the rows' sum;
- `Ratio(numerator, denominator, scale)`: recomputed from the totals of two other columns
  (CTR = clicks / impressions, CPC, CPA, ROAS, PNO, conversion rate), never an average of
  the rows' ratios;
- `Difference(a, b)` and `Change(a, b)`: a comparison column, a - b and (a - b) / b of the
  totals of `a` and `b`;
- `None`: text, or a value that does not add up (a budget repeated on each account row).

The columns a ratio reads need not be shown: a report lists them as `inputs`, and the XLSX
writer adds those it needs as hidden columns so its formulas can read them.

Rows of different currencies are never summed together: `Totals` keeps a sum per value of the
currency column (one total for a table without one). `count_where` (column, value) counts only
the rows with that value (the accounts overview sums its account rows, not its client rows).
Sums are exact: Decimal money and integer counts, floats only where the frame has floats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl

from ppc_robot.lib.outputs.columns import Change, Column, Difference, Ratio, Sum

TOTAL_LABEL = "Total"


@dataclass(frozen=True)
class TotalsRow:
    """One currency's totals: values by column name (None where there is nothing to show)."""

    currency: str
    values: dict[str, Decimal | None]


def needed_columns(columns: Sequence[Column], inputs: Sequence[Column] = ()) -> list[Column]:
    """The columns of `inputs` that the totals of `columns` read and that are not shown, in
    the order of `inputs` (each input's own inputs included)."""
    by_name = {c.name: c for c in [*inputs, *columns]}
    shown = {c.name for c in columns}
    wanted: set[str] = set()

    def visit(name: str) -> None:
        column = by_name.get(name)
        if column is None:
            raise ValueError(f"the totals read a column {name!r} that is not declared")
        if name not in shown:
            wanted.add(name)
        for reference in _references(column.total):
            if reference not in shown and reference not in wanted:
                visit(reference)

    for column in columns:
        for reference in _references(column.total):
            if reference not in shown:
                visit(reference)
    return [c for c in inputs if c.name in wanted]


def _references(spec: Any) -> tuple[str, ...]:
    if isinstance(spec, Ratio):
        return (spec.numerator, spec.denominator)
    if isinstance(spec, Difference):
        return (spec.minuend, spec.subtrahend)
    if isinstance(spec, Change):
        return (spec.current, spec.previous)
    return ()


def _decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


class Totals:
    """Sums per currency of the frames given to `add`; `rows()` gives the totals rows.

    `columns` are the table's columns and `inputs` the hidden ones they read (see
    `needed_columns`); `currency_column` names the column that splits the sums.
    """

    def __init__(self, columns: Sequence[Column], inputs: Sequence[Column] = (), *,
                 currency_column: str = "currency", currency: str | None = None,
                 count_where: tuple[str, str] | None = None) -> None:
        self.columns = list(columns) + needed_columns(columns, inputs)
        self.currency_column = currency_column
        self.currency = currency
        self.count_where = count_where
        self._specs = {c.name: c.total for c in self.columns}
        self._summed = [c.name for c in self.columns if isinstance(c.total, Sum)]
        self._sums: dict[str, dict[str, Decimal]] = {}

    @property
    def has_totals(self) -> bool:
        return any(spec is not None for spec in self._specs.values())

    def add(self, frame: pl.DataFrame) -> None:
        """Add the frame's rows to the sums of their currency."""
        if not self._summed or frame.height == 0:
            return
        if self.count_where is not None:
            column, value = self.count_where
            frame = frame.filter(pl.col(column).cast(pl.String) == value)
        if self.currency_column in frame.columns:
            key = pl.col(self.currency_column).cast(pl.String).fill_null("")
        else:
            key = pl.lit(self.currency or "")
        grouped = frame.group_by(key.alias("__currency")).agg(
            [pl.col(name).sum() for name in self._summed])
        for row in grouped.iter_rows(named=True):
            sums = self._sums.setdefault(row.pop("__currency"), {})
            for name, value in row.items():
                if value is not None:
                    sums[name] = sums.get(name, Decimal(0)) + _decimal(value)

    def rows(self) -> list[TotalsRow]:
        """One totals row per currency, in the currencies' alphabetical order."""
        return [TotalsRow(currency, self._values(sums)) for currency, sums in sorted(self._sums.items())]

    def _values(self, sums: Mapping[str, Decimal]) -> dict[str, Decimal | None]:
        values: dict[str, Decimal | None] = {}

        def value(name: str) -> Decimal | None:
            if name in values:
                return values[name]
            spec = self._specs.get(name)
            result: Decimal | None = None
            if isinstance(spec, Sum):
                result = sums.get(name, Decimal(0))
            elif isinstance(spec, Ratio):
                result = _ratio(value(spec.numerator), value(spec.denominator), spec.scale)
            elif isinstance(spec, Difference):
                a, b = value(spec.minuend), value(spec.subtrahend)
                result = None if a is None or b is None else a - b
            elif isinstance(spec, Change):
                a, b = value(spec.current), value(spec.previous)
                result = None if a is None or b is None else _ratio(a - b, b, Decimal(1))
            values[name] = result
            return result

        for name in self._specs:
            value(name)
        return values

    def cells(self, row: TotalsRow, columns: Sequence[Column]) -> tuple[Any, ...]:
        """The totals row as cells of `columns`: "Total" in the first column, the currency in
        the currency column (both in the first when it is the currency column), the totals
        under the columns that have them."""
        cells: list[Any] = []
        for index, column in enumerate(columns):
            if index == 0:  # the label; with the currency when this is the currency column
                cells.append(f"{TOTAL_LABEL} {row.currency}" if column.name == self.currency_column
                             and row.currency else TOTAL_LABEL)
            elif column.name == self.currency_column:
                cells.append(row.currency)
            elif column.total is None:
                cells.append(None)
            else:
                cells.append(row.values.get(column.name))
        return tuple(cells)


def _ratio(numerator: Decimal | None, denominator: Decimal | None, scale: Decimal) -> Decimal | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    try:
        return numerator * scale / denominator
    except InvalidOperation:
        return None

