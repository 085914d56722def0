"""The performance report's table, computed in parts that fit in memory.

The platform rows of a run wait on disk (Arrow IPC files in the run's work folder, a file per
chunk). The table is built in two passes, each over parts small enough to hold at once:

1. the rows are split by a hash of the report's keys; each part is grouped (money summed as
   exact integers of micros, then Decimal), joined to its comparison period, filtered by the
   thresholds, and written back to disk;
2. those grouped rows are read back in ranges of the sort column, in the report's order; each
   range is sorted (ties broken by the keys, so the order is always the same) and gives the
   next rows of the report.

Derived metrics are computed slice by slice as the rows go to the output: nothing ever holds
the whole table, and every value is computed by the same expressions as on the whole table.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
from dateutil.relativedelta import relativedelta

from ppc_robot.lib.reports.periods import Period

MONEY = pl.Decimal(38, 6)
MICROS = 1_000_000
BASE = ("impressions", "clicks", "cost", "conversions", "conversion_value")
MONEY_COLUMNS = ("cost", "conversions", "conversion_value")
DERIVED = ("ctr", "cpc", "cpm", "conversion_rate", "cpa", "roas", "pno")
TIME_DIMENSIONS = ("date", "week", "month")
# Rows per part in both passes: what is held at once, whatever the report's size.
PART_ROWS = 50_000


@dataclass(frozen=True)
class Chunk:
    """Platform rows spilled to one file."""

    path: Path
    rows: int


class Spill:
    """Where a run's platform rows wait on disk until the table is computed (thread-safe)."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._lock = threading.Lock()
        self._count = 0

    def write(self, frame: pl.DataFrame) -> Chunk:
        with self._lock:
            self._count += 1
            path = self.folder / f"rows-{self._count:06d}.arrow"
        frame.write_ipc(path, compression="lz4")
        return Chunk(path, frame.height)


def _with_time_dimensions(frame: pl.LazyFrame, dimensions: Sequence[str]) -> pl.LazyFrame:
    extra = {}
    if "week" in dimensions:
        extra["week"] = pl.col("date").dt.truncate("1w")
    if "month" in dimensions:
        extra["month"] = pl.col("date").dt.strftime("%Y-%m")
    return frame.with_columns(**extra) if extra else frame


def _aggregate(frame: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """Sums per key; money sums stay exact integers of micros, then become Decimal."""
    summed = frame.group_by(keys).agg([pl.col(m).sum() for m in BASE])
    return summed.with_columns(
        [(pl.col(m).cast(MONEY) / pl.lit(Decimal(MICROS), pl.Decimal(24, 0))).alias(m) for m in MONEY_COLUMNS]
    )


def _safe_div(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    return pl.when(denominator != 0).then(numerator / denominator).otherwise(None)


def _derived_columns(suffix: str = "") -> dict[str, pl.Expr]:
    """Derived metrics: money ones (CPC, CPM, CPA) as Decimal, ratios as floats."""

    def col(name: str) -> pl.Expr:
        return pl.col(name + suffix)

    impressions, clicks = col("impressions"), col("clicks")
    cost, conversions, value = col("cost"), col("conversions"), col("conversion_value")
    expressions = {
        "ctr": _safe_div(clicks.cast(pl.Float64), impressions.cast(pl.Float64)),
        "cpc": _safe_div(cost, clicks.cast(MONEY)),
        "cpm": _safe_div(cost * pl.lit(Decimal(1000), MONEY), impressions.cast(MONEY)),
        "conversion_rate": _safe_div(conversions.cast(pl.Float64), clicks.cast(pl.Float64)),
        "cpa": _safe_div(cost, conversions),
        "roas": _safe_div(value.cast(pl.Float64), cost.cast(pl.Float64)),
        "pno": _safe_div(cost.cast(pl.Float64), value.cast(pl.Float64)),
    }
    return {name: expression.alias(name + suffix) for name, expression in expressions.items()}


def _derived(frame: pl.LazyFrame, suffix: str = "") -> pl.LazyFrame:
    return frame.with_columns(*_derived_columns(suffix).values())


def _shift(frame: pl.LazyFrame, shift: relativedelta, dimensions: Sequence[str]) -> pl.LazyFrame:
    """Move a comparison period's dates onto the report period so rows line up."""
    moved = frame
    if "date" in dimensions or "week" in dimensions or "month" in dimensions:
        if shift.years:
            moved = moved.with_columns(date=pl.col("date").dt.offset_by(f"{shift.years}y"))
        else:
            moved = moved.with_columns(date=pl.col("date").dt.offset_by(f"{shift.days}d"))
    return moved


@dataclass
class ReportTable:
    """The computed report: its size and currencies now, its rows in order on demand."""

    keys: list[str]
    metrics: list[str]
    has_previous: bool
    height: int
    currencies: list[str]
    _ordered: Callable[[], Iterator[pl.DataFrame]]

    @property
    def columns(self) -> list[str]:
        suffixes = ("", "_previous", "_change", "_change_pct") if self.has_previous else ("",)
        return self.keys + [m + s for m in self.metrics for s in suffixes]

    def frames(self) -> Iterator[pl.DataFrame]:
        """The report's rows in order, a part at a time, with every column of `columns`."""
        for part in self._ordered():
            yield _finish(part, self.metrics, self.has_previous).select(self.columns)


def _finish(part: pl.DataFrame, metrics: Sequence[str], has_previous: bool) -> pl.DataFrame:
    table = _derived(part.lazy())
    if has_previous:
        table = _derived(table, "_previous")
        table = table.with_columns(
            [(pl.col(m).cast(pl.Float64) - pl.col(f"{m}_previous").cast(pl.Float64)).alias(f"{m}_change")
             for m in metrics]
            + [_safe_div(pl.col(m).cast(pl.Float64) - pl.col(f"{m}_previous").cast(pl.Float64),
                         pl.col(f"{m}_previous").cast(pl.Float64)).alias(f"{m}_change_pct") for m in metrics]
        )
    return table.collect()


def _sort_column(parameters: dict[str, Any], keys: list[str]) -> str | None:
    sort_by = parameters.get("sort_by") or parameters["metrics"][0]
    if sort_by in keys or sort_by in BASE or sort_by in DERIVED:
        return sort_by
    return None  # a dimension (or time dimension) the report does not show: keys order only


def compute(raw: pl.LazyFrame, raw_rows: int, parameters: dict[str, Any], period: Period,
            comparison: tuple[Period, relativedelta] | None, work: Path) -> ReportTable:
    """The report table from raw platform rows of the period (and the comparison period).

    `raw_rows` (how many rows `raw` has) sizes the parts; `work` is a folder for the grouped
    rows, which must stay until the table's frames have been read.
    """
    dimensions = list(parameters["dimensions"])
    metrics = list(parameters["metrics"])
    keys = dimensions + (["currency"] if "currency" not in dimensions else [])
    sort_by = _sort_column(parameters, keys)
    descending = sort_by is not None and parameters.get("sort_order") != "asc"
    grouped, rows, currencies = _group(raw, raw_rows, parameters, keys, sort_by, period, comparison, work)

    def ordered() -> Iterator[pl.DataFrame]:
        return _in_order(grouped, rows, keys, sort_by, descending)

    limit = int(parameters["row_limit"]) if parameters.get("row_limit") else None
    if limit is not None and limit < rows:
        # At most ROW_LIMIT_MAX rows: held (without derived columns) so size and currencies are known.
        kept = list(_head(ordered(), limit))
        rows = sum(part.height for part in kept)
        currencies = sorted({c for part in kept for c in part.get_column("currency").unique().to_list()})

        def ordered() -> Iterator[pl.DataFrame]:
            return iter(kept)

    return ReportTable(keys, metrics, comparison is not None, rows, currencies, ordered)


def _group(raw: pl.LazyFrame, raw_rows: int, parameters: dict[str, Any], keys: list[str],
           sort_by: str | None, period: Period, comparison: tuple[Period, relativedelta] | None,
           work: Path) -> tuple[list[Path], int, list[str]]:
    """Pass 1: grouped rows, by parts of the keys' hash, filtered, on disk. Returns files, rows, currencies."""
    dimensions = list(parameters["dimensions"])
    lazy = raw
    needle = (parameters.get("name_contains") or "").lower()
    if needle:
        def matches(name: str) -> pl.Expr:
            return pl.col(name).cast(pl.String).fill_null("").str.to_lowercase().str.contains(needle, literal=True)

        lazy = lazy.filter(matches("campaign") | matches("ad_group"))
    current = _with_time_dimensions(lazy.filter(pl.col("date").is_between(period.first, period.last)), dimensions)
    previous = None
    if comparison is not None:
        before, shift = comparison
        previous = lazy.filter(pl.col("date").is_between(before.first, before.last))
        previous = _with_time_dimensions(_shift(previous, shift, dimensions), dimensions)
    thresholds = {"impressions": "min_impressions", "clicks": "min_clicks", "cost": "min_cost",
                  "conversions": "min_conversions"}
    parts = max(1, -(-raw_rows // PART_ROWS))
    files: list[Path] = []
    rows = 0
    currencies: set[str] = set()
    for number in range(parts):
        def share(frame: pl.LazyFrame, number: int = number) -> pl.LazyFrame:
            return frame if parts == 1 else frame.filter(pl.struct(keys).hash() % parts == number)

        table = _aggregate(share(current), keys)
        if previous is not None:
            earlier = _aggregate(share(previous), keys)
            earlier = earlier.select(keys + [pl.col(m).alias(f"{m}_previous") for m in BASE])
            table = table.join(earlier, on=keys, how="left", nulls_equal=True)
        for metric, key in thresholds.items():
            if parameters.get(key) not in (None, ""):
                table = table.filter(pl.col(metric).cast(pl.Float64) >= float(parameters[key]))
        if sort_by in DERIVED:
            table = table.with_columns(_derived_columns()[sort_by])
        frame = table.collect()
        if frame.height:
            path = work / f"grouped-{number:05d}.arrow"
            frame.write_ipc(path, compression="lz4")
            files.append(path)
            rows += frame.height
            currencies.update(frame.get_column("currency").unique().to_list())
        del frame
    return files, rows, sorted(currencies)


def _in_order(files: list[Path], rows: int, keys: list[str], sort_by: str | None,
              descending: bool) -> Iterator[pl.DataFrame]:
    """Pass 2: the grouped rows in the report's order, a range of the sort column at a time."""
    if not files:
        return
    grouped = pl.scan_ipc(files)
    column = sort_by or keys[0]
    order = [column] + [k for k in keys if k != column]
    directions = [descending] + [False] * (len(order) - 1)
    value = pl.col(column)
    if grouped.collect_schema()[column] == pl.Categorical:
        value = value.cast(pl.String)  # compared as text, the order categoricals sort in
    bounds: list[Any] = []
    if rows > PART_ROWS:
        picked = grouped.select(value.drop_nulls().sort().gather_every(PART_ROWS, PART_ROWS)).collect()
        bounds = picked.to_series().unique(maintain_order=True).to_list()
    ranges = [(low, high) for low, high in zip([None, *bounds], [*bounds, None], strict=True)]
    if descending:
        ranges.reverse()
    selections = []
    for low, high in ranges:
        condition = value.is_not_null()
        if low is not None:
            condition &= value >= low
        if high is not None:
            condition &= value < high
        selections.append(condition)
    selections.append(value.is_null())  # nulls last, as the sort puts them
    for condition in selections:
        part = grouped.filter(condition).collect()
        if part.height:
            yield part.sort(order, descending=directions, nulls_last=True)


def _head(parts: Iterator[pl.DataFrame], limit: int) -> Iterator[pl.DataFrame]:
    left = limit
    for part in parts:
        if left <= 0:
            return
        yield part.head(left)
        left -= part.height
