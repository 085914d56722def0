"""The preview the job page shows of a run: its first rows as text and a chart by day."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from ppc_robot.lib.i18n import N_
from ppc_robot.lib.outputs import Column, ColumnKind
from ppc_robot.lib.outputs.totals import Totals
from ppc_robot.lib.runner import RunContext
from ppc_robot.lib.runs import preview_name

PREVIEW_ROWS = 20


def shown(column: Column, value: Any, currency: str) -> str:
    """A cell as the preview shows it: money with two decimals and its currency, percentages."""
    if value is None:
        return ""
    if column.kind is ColumnKind.MONEY:
        return f"{Decimal(value):,.2f} {currency}".replace(",", "\u202f").strip()
    if column.kind is ColumnKind.PERCENT:
        return f"{float(value) * 100:.2f} %"
    if column.kind is ColumnKind.RATE:
        return f"{Decimal(value):.6f}"
    if column.kind in (ColumnKind.RATIO, ColumnKind.DECIMAL):
        return f"{float(value):,.2f}".replace(",", "\u202f")
    if column.kind is ColumnKind.INTEGER:
        return f"{int(value):,}".replace(",", "\u202f")
    return str(value)


# Kinds whose cells the preview also keeps as plain numbers, for the page to write them in its
# reader's locale (the text cells stay for previews read by older code, and for other kinds).
NUMERIC_KINDS = (ColumnKind.MONEY, ColumnKind.PERCENT, ColumnKind.RATIO, ColumnKind.DECIMAL,
                 ColumnKind.INTEGER)


def plain(column: Column, value: Any) -> str | None:
    """A numeric cell as an exact decimal string ("14255.96"); None for other cells."""
    if value is None or column.kind not in NUMERIC_KINDS:
        return None
    try:
        return str(Decimal(str(value)))
    except ArithmeticError:
        return None


@dataclass(frozen=True)
class ChartSeries:
    """A column summed per `date` and drawn on the run page's chart (static/js/charts.js)."""

    column: str
    label: str
    axis: str = "y"  # "y" on the left, "y2" on the right
    is_money: bool = False
    is_dashed: bool = False  # the comparison period


class Preview:
    """First rows and, given `chart_metric`, that column summed per `date`, for the job page;
    given `chart_series`, those columns per `date` as the run page's chart.

    Noted from the report's frames on their way to the output (`watch`), so the table is read
    once; `currency` is the money columns' currency, empty when the table has several.
    `totals` (set by `ReportRun.write` from the table's layout) adds its totals rows.
    """

    def __init__(self, columns: list[Column], currency: str, *, chart_metric: str | None = None,
                 chart_label: str = "", chart_series: Sequence[ChartSeries] = ()) -> None:
        self.columns = columns
        self.series = list(chart_series)
        self._series_sums: list[pl.DataFrame] = []
        self.currency = currency
        self.metric = chart_metric
        self.chart_label = chart_label
        self.rows: list[list[str]] = []
        self.values: list[list[str | None]] = []
        self._sums: list[pl.DataFrame] = []
        self.totals: Totals | None = None

    def watch(self, frames: Iterator[pl.DataFrame]) -> Iterator[pl.DataFrame]:
        """The same frames, noted on their way."""
        names = [c.name for c in self.columns]
        for frame in frames:
            if len(self.rows) < PREVIEW_ROWS:
                head = list(frame.head(PREVIEW_ROWS - len(self.rows)).select(names).iter_rows())
                self.rows += [[shown(column, value, self.currency)
                               for column, value in zip(self.columns, row, strict=True)]
                              for row in head]
                self.values += [[plain(column, value)
                                 for column, value in zip(self.columns, row, strict=True)]
                                for row in head]
            if self.totals is not None:
                self.totals.add(frame)
            if self.metric is not None:
                self._sums.append(frame.group_by("date").agg(pl.col(self.metric).cast(pl.Float64).sum()))
            if self.series:
                self._series_sums.append(frame.group_by("date").agg(
                    [pl.col(s.column).cast(pl.Float64).sum() for s in self.series]))
            yield frame

    def save(self, context: RunContext) -> None:
        """Write the preview beside the run's output."""
        labels: list[str] = []
        values: list[float] = []
        if self._sums and self.metric is not None:
            series = pl.concat(self._sums).group_by("date").agg(pl.col(self.metric).sum()).sort("date")
            labels = [d.isoformat() for d in series.get_column("date").to_list()]
            values = [round(v or 0.0, 4) for v in series.get_column(self.metric).to_list()]
        totals: list[list[str]] = []
        totals_values: list[list[str | None]] = []
        totals_currencies: list[str] = []
        if self.totals is not None and self.totals.has_totals:
            for row in self.totals.rows():
                cells = list(zip(self.columns, self.totals.cells(row, self.columns), strict=True))
                totals.append([shown(column, value, row.currency) for column, value in cells])
                totals_values.append([plain(column, value) for column, value in cells])
                totals_currencies.append(row.currency)
        target = context.output_dir / preview_name(context.run_id)
        target.write_text(json.dumps({"header": [c.label for c in self.columns], "rows": self.rows,
                                      "totals": totals,
                                      "kinds": [c.kind.value for c in self.columns],
                                      "currency": self.currency, "values": self.values,
                                      "totals_values": totals_values,
                                      "totals_currencies": totals_currencies,
                                      "chart_labels": labels, "chart_values": values,
                                      "chart_label": self.chart_label,
                                      "chart": self._chart()}), encoding="utf-8")

    def _chart(self) -> dict[str, Any] | None:
        """The chart in static/js/charts.js's terms: days, units, axis titles and series."""
        if not self.series or not self._series_sums:
            return None
        names = [s.column for s in self.series]
        table = pl.concat(self._series_sums).group_by("date").agg(
            [pl.col(n).sum() for n in names]).sort("date")
        titles: dict[str, str] = {"x": N_("Day")}
        units: dict[str, str] = {}
        for series in self.series:
            if series.axis not in titles:
                unit = self.currency if series.is_money else ""
                units[series.axis] = unit
                titles[series.axis] = f"{series.label} ({unit})" if unit else series.label
        return {
            "labels": [d.isoformat() for d in table.get_column("date").to_list()],
            "unit": units.get("y", ""), "unit2": units.get("y2", ""), "titles": titles,
            "series": [{"label": s.label, "axis": s.axis, "type": "line", "dashed": s.is_dashed,
                        "colour": "#0d6efd" if s.axis == "y" else "#fd7e14",
                        "values": [round(v or 0.0, 4) for v in table.get_column(s.column).to_list()]}
                       for s in self.series],
        }
