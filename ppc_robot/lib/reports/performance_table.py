"""The performance report's table, computed in parts that fit in memory.

The platform rows of a run wait on disk (Arrow IPC files in the run's work folder, a file per
chunk). The table is built in two passes, each over parts small enough to hold at once:

1. the rows are split by a hash of the report's keys; each part is grouped (money summed as
   exact integers of micros, then Decimal), joined to its comparison period, filtered by the
   thresholds, and written back to disk;
2. those grouped rows are read back in ranges of the sort column, in the report's order (a
   value shared by many rows, and the rows without a value, split further by the next key);
   each range is sorted, ties broken by the keys so the order is always the same, and gives
   the next rows of the report.

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

from ppc_robot.lib.periods import Period

MONEY = pl.Decimal(38, 6)
MICROS = 1_000_000
BASE = ("impressions", "clicks", "cost", "conversions", "conversion_value")
MONEY_COLUMNS = ("cost", "conversions", "conversion_value")
DERIVED = ("ctr", "cpc", "cpm", "conversion_rate", "cpa", "roas", "pno")
# Rows per part in both passes: what is held at once, whatever the report's size.
PART_ROWS = 50_000
SLICE_ROWS = 10_000  # rows given to the output at once, with all their columns


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

    def discard(self, chunks: Sequence[Chunk]) -> None:
        """Remove chunks that will not be used (an attempt that failed midway)."""
        for chunk in chunks:
            chunk.path.unlink(missing_ok=True)


def _with_time_dimensions(frame: pl.LazyFrame, dimensions: Sequence[str]) -> pl.LazyFrame:
    extra = {}
    if "week" in dimensions:
        extra["week"] = pl.col("date").dt.truncate("1w")
    if "month" in dimensions:
        extra["month"] = pl.col("date").dt.strftime("%Y-%m")
    return frame.with_columns(**extra) if extra else frame


def _aggregate(frame: pl.LazyFrame, keys: list[str], extra: Sequence[str] = ()) -> pl.LazyFrame:
    """Sums per key; money sums stay exact integers of micros, then become Decimal. `extra`:
    more micros columns to sum (the original cost of converted money)."""
    summed = frame.group_by(keys).agg([pl.col(m).sum() for m in (*BASE, *extra)])
    return summed.with_columns(
        [(pl.col(m).cast(MONEY) / pl.lit(Decimal(MICROS), pl.Decimal(24, 0))).alias(m)
         for m in (*MONEY_COLUMNS, *extra)]
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
    converted: bool = False  # money in a reporting currency: original cost and rate beside it

    @property
    def columns(self) -> list[str]:
        suffixes = ("", "_previous", "_change", "_change_pct") if self.has_previous else ("",)
        extra = ["cost_original", "rate"] if self.converted else []
        return self.keys + extra + [m + s for m in self.metrics for s in suffixes]

    def frames(self) -> Iterator[pl.DataFrame]:
        """The report's rows in order, a slice at a time, with every column of `columns` and
        the base metrics (the totals' ratios read them, shown or not)."""
        suffixes = ("", "_previous") if self.has_previous else ("",)
        columns = self.columns + [m + s for s in suffixes for m in BASE if m + s not in self.columns]
        for part in self._ordered():
            # Derived and change columns make a row several times wider: a slice at a time.
            for piece in part.iter_slices(SLICE_ROWS):
                yield _finish(piece, self.metrics, self.has_previous, self.converted).select(columns)


def _finish(part: pl.DataFrame, metrics: Sequence[str], has_previous: bool,
            converted: bool = False) -> pl.DataFrame:
    table = _derived(part.lazy())
    if converted:
        # The rate of a row over several days is their cost-weighted mean: converted / original.
        table = table.with_columns(rate=_safe_div(pl.col("cost").cast(pl.Float64),
                                                  pl.col("cost_original").cast(pl.Float64)))
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
    converted = bool(parameters.get("reporting_currency"))
    keys = dimensions + (["currency"] if "currency" not in dimensions else [])
    keys += ["original_currency"] if converted else []
    sort_by = _sort_column(parameters, keys)
    descending = sort_by is not None and parameters.get("sort_order") != "asc"
    grouped, rows, currencies = _group(raw, raw_rows, parameters, keys, sort_by, period, comparison, work)

    # Several currencies: never ranked as one; each currency's rows in order, one after another.
    currency_first = len(currencies) > 1

    def ordered() -> Iterator[pl.DataFrame]:
        return _in_order(grouped, rows, keys, sort_by, descending, currency_first=currency_first)

    limit = int(parameters["row_limit"]) if parameters.get("row_limit") else None
    if limit is not None and limit < rows:
        # At most ROW_LIMIT_MAX rows: held (without derived columns) so size and currencies are known.
        kept = list(_head(ordered(), limit))
        rows = sum(part.height for part in kept)
        currencies = sorted({c for part in kept for c in part.get_column("currency").unique().to_list()})

        def ordered() -> Iterator[pl.DataFrame]:
            return iter(kept)

    return ReportTable(keys, metrics, comparison is not None, rows, currencies, ordered, converted)


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

        extra = ["cost_original"] if "original_currency" in keys else []
        table = _aggregate(share(current), keys, extra)
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
              descending: bool, *, currency_first: bool = False) -> Iterator[pl.DataFrame]:
    """Pass 2: the grouped rows in the report's order, a range of the sort column at a time.

    The order: the currency first when `currency_first`, then the sort column (nulls last),
    then the keys in their order, ascending.
    """
    if not files:
        return
    grouped = pl.scan_ipc(files)
    first = sort_by or keys[0]
    lead = ["currency"] if currency_first and first != "currency" else []
    order = lead + [first] + [k for k in keys if k != first and k not in lead]
    directions = [False] * len(lead) + [descending] + [False] * (len(order) - 1 - len(lead))
    schema = grouped.collect_schema()

    def compared(name: str) -> pl.Expr:
        # Categoricals are compared as text: the order they sort in.
        return pl.col(name).cast(pl.String) if schema[name] == pl.Categorical else pl.col(name)

    def sorted_rows(selected: pl.Expr) -> Iterator[pl.DataFrame]:
        part = grouped.filter(selected).collect()
        if part.height:
            yield part.sort(order, descending=directions, nulls_last=True)

    def parts(selected: pl.Expr, count: int, level: int) -> Iterator[pl.DataFrame]:
        """The `count` rows `selected` (equal in the columns before `level`), in order."""
        if count <= PART_ROWS or level == len(order):
            yield from sorted_rows(selected)
            return
        value = compared(order[level])
        present = grouped.filter(selected).select(value.drop_nulls().sort()).collect().to_series()
        nulls = count - len(present)
        ranges = _ranges(present)
        del present
        if directions[level]:
            ranges.reverse()
        for low, high, size, single in ranges:
            condition = selected & value.is_not_null()
            if low is not None:
                condition &= value >= low[0] if low[1] else value > low[0]
            if high is not None:
                condition &= value <= high[0] if high[1] else value < high[0]
            # One value with many rows: those are put in order by the next column.
            yield from parts(condition, size, level + 1) if single else sorted_rows(condition)
        if nulls:  # last, as the sort puts them; in order by the next column
            yield from parts(selected & value.is_null(), nulls, level + 1)

    yield from parts(pl.lit(True), rows, 0)


def _ranges(present: pl.Series) -> list[tuple[tuple[Any, bool] | None, tuple[Any, bool] | None, int, bool]]:
    """Ranges of sorted values with about PART_ROWS values each: (low, high, size, single).

    `low` and `high` are (value, inclusive) or None for open; a value found more than
    PART_ROWS // 2 times gets a range of its own, marked `single`.
    """
    bounds = present.gather_every(PART_ROWS, PART_ROWS).unique(maintain_order=True)
    starts = present.search_sorted(bounds, "left").to_list()
    ends = present.search_sorted(bounds, "right").to_list()
    ranges: list[tuple[tuple[Any, bool] | None, tuple[Any, bool] | None, int, bool]] = []
    low: tuple[Any, bool] | None = None
    taken = 0
    for bound, start, end in zip(bounds.to_list(), starts, ends, strict=True):
        if start > taken:
            ranges.append((low, (bound, False), start - taken, False))
        if end - start > PART_ROWS // 2:
            ranges.append(((bound, True), (bound, True), end - start, True))
            low, taken = (bound, False), end
        else:
            low, taken = (bound, True), start
    if len(present) > taken:
        ranges.append((low, None, len(present) - taken, False))
    return ranges


def _head(parts: Iterator[pl.DataFrame], limit: int) -> Iterator[pl.DataFrame]:
    left = limit
    for part in parts:
        if left <= 0:
            return
        yield part.head(left)
        left -= part.height
