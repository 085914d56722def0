"""The charts of a run: the run page's series (axes, units, the comparison dashed) and the XLSX
chart's axis titles."""

from __future__ import annotations

import json
import re
import zipfile
from datetime import date
from decimal import Decimal

import polars as pl
import pytest

from ppc_robot.lib.outputs import Column, ColumnKind, Sheet, write_xlsx
from ppc_robot.lib.reports.performance_run import chart_series
from ppc_robot.lib.reports.shared import ChartSeries, Preview
from ppc_robot.lib.runs import preview_name

COLUMNS = [
    Column("date", "Date", ColumnKind.DATE),
    Column("clicks", "Clicks", ColumnKind.INTEGER),
    Column("cost", "Cost", ColumnKind.MONEY),
]
ROWS = [(date(2026, 11, 1), 120, Decimal("1234.50")), (date(2026, 11, 2), 95, Decimal("999.99"))]


def chart_xml(path):
    with zipfile.ZipFile(path) as workbook:
        return workbook.read("xl/charts/chart1.xml").decode("utf-8")


def axis_titles(xml):
    """The titles of the category/date axis and the value axis, in the chart's XML order."""
    axes = re.findall(r"<c:(?:catAx|dateAx|valAx)>.*?</c:(?:catAx|dateAx|valAx)>", xml, re.S)
    return [" ".join(re.findall(r"<a:t>([^<]*)</a:t>", axis)) for axis in axes]


@pytest.mark.parametrize(("metric", "y_title"), [("cost", "Cost (CZK)"), ("clicks", "Clicks")])
def test_the_xlsx_chart_has_titled_axes_with_the_unit(tmp_path, metric, y_title):
    path = tmp_path / "report.xlsx"

    write_xlsx(path, [Sheet("Performance", COLUMNS, ROWS, currency="CZK", chart_metric=metric)])

    xml = chart_xml(path)
    assert axis_titles(xml) == ["Date", y_title]
    assert "<c:dateAx>" in xml


def test_money_goes_left_a_count_right_and_the_comparison_is_dashed():
    series = chart_series(["ctr", "clicks", "cost", "conversions"], has_previous=True, currency="CZK")

    assert [(s.column, s.axis, s.is_money, s.is_dashed) for s in series] == [
        ("cost", "y", True, False), ("cost_previous", "y", True, True),
        ("clicks", "y2", False, False), ("clicks_previous", "y2", False, True),
    ]


def test_amounts_in_several_currencies_are_never_charted_as_one():
    series = chart_series(["cost", "impressions", "clicks"], has_previous=False, currency="")

    assert [(s.column, s.axis) for s in series] == [("impressions", "y"), ("clicks", "y2")]


def test_ratios_alone_draw_no_chart():
    assert chart_series(["ctr", "roas"], has_previous=True, currency="CZK") == []


def test_the_preview_sums_each_series_by_day_with_units_and_axis_titles(tmp_path):
    class Context:
        output_dir = tmp_path
        run_id = 7

    columns = [Column("date", "Date", ColumnKind.DATE), Column("cost", "Cost", ColumnKind.MONEY),
               Column("clicks", "Clicks", ColumnKind.INTEGER)]
    preview = Preview(columns, "CZK", chart_series=[
        ChartSeries("cost", "Cost", "y", is_money=True),
        ChartSeries("clicks", "Clicks", "y2"),
    ])
    frames = [pl.DataFrame({"date": [date(2026, 11, 2), date(2026, 11, 1)], "cost": [1.5, 2.0],
                            "clicks": [3, 4]}),
              pl.DataFrame({"date": [date(2026, 11, 1)], "cost": [0.25], "clicks": [10]})]

    list(preview.watch(iter(frames)))
    preview.save(Context())

    chart = json.loads((tmp_path / preview_name(7)).read_text())["chart"]
    assert chart["labels"] == ["2026-11-01", "2026-11-02"]
    assert (chart["unit"], chart["unit2"]) == ("CZK", "")
    assert chart["titles"] == {"x": "Day", "y": "Cost (CZK)", "y2": "Clicks"}
    assert [(s["label"], s["axis"], s["values"]) for s in chart["series"]] == [
        ("Cost", "y", [2.25, 1.5]), ("Clicks", "y2", [14.0, 3.0])]
