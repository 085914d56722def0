from __future__ import annotations

import csv
import shutil
import subprocess
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ppc_robot.lib.outputs import Column, ColumnKind, Sheet, XlsxFile, write_csv, write_xlsx
from ppc_robot.lib.outputs.columns import FORMULA_TRIGGERS, neutralise_formula
from ppc_robot.lib.outputs.xlsx import sheet_name

COLUMNS = [
    Column("date", "Date", ColumnKind.DATE),
    Column("campaign", "Campaign", ColumnKind.TEXT),
    Column("clicks", "Clicks", ColumnKind.INTEGER),
    Column("cost", "Cost", ColumnKind.MONEY),
    Column("ctr", "CTR", ColumnKind.PERCENT),
    Column("cpa", "CPA", ColumnKind.MONEY, better="lower"),
]
ROWS = [
    (date(2026, 11, 1), "=HYPERLINK(\"http://evil\")", 120, Decimal("1234.50"), 0.0312, Decimal("80.10")),
    (date(2026, 11, 2), "Brand — CZ", 95, Decimal("999.99"), 0.0288, Decimal("120.00")),
]


def read_back_with_libreoffice(xlsx_path, tmp_path):
    """LibreOffice (Debian's libreoffice-calc) opens the workbook and saves its first sheet as CSV."""
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        pytest.fail("LibreOffice is not installed: `make test` installs libreoffice-calc.")
    out = tmp_path / "lo"
    subprocess.run([office, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/lo-profile",
                    "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false",
                    "--outdir", str(out), str(xlsx_path)], check=True, capture_output=True, timeout=120)
    with (out / (xlsx_path.stem + ".csv")).open(encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_libreoffice_reads_back_the_values_of_the_xlsx(tmp_path):
    path = tmp_path / "report.xlsx"

    rows = write_xlsx(path, [Sheet("Performance", COLUMNS, ROWS, currency="CZK", chart_metric="clicks",
                                   goals={"cpa": Decimal("100")})])

    table = read_back_with_libreoffice(path, tmp_path)
    assert rows == 2
    assert table[0] == ["Date", "Campaign", "Clicks", "Cost", "CTR", "CPA"]
    assert table[1][0] == "2026-11-01"
    assert table[1][1] == "'=HYPERLINK(\"http://evil\")"  # text, never a formula
    assert table[1][2] == "120"
    assert table[1][3].replace("\u00a0", " ") == "1,234.50 CZK"
    assert table[1][4] == "3.12%"
    assert table[2][1] == "Brand — CZ"


def test_csv_is_utf8_with_the_chosen_delimiter_and_no_formulas(tmp_path):
    path = tmp_path / "report.csv"

    write_csv(path, COLUMNS, ROWS, delimiter=";")

    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode())
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == "Date;Campaign;Clicks;Cost;CTR (%);CPA"  # percent, the unit in the header
    assert lines[1].split(";")[1] == "\"'=HYPERLINK(\"\"http://evil\"\")\""
    assert lines[2] == "2026-11-02;Brand — CZ;95;999.99;2.88;120.00"


@settings(max_examples=200)
@given(st.text(min_size=1))
def test_no_text_can_become_a_formula(text):
    assert not neutralise_formula(text).startswith(FORMULA_TRIGGERS)
    assert neutralise_formula(text).lstrip("'") in (text, text.lstrip("'"))


def test_sheet_names_are_made_valid_and_unique():
    taken: set[str] = set()

    names = [sheet_name(n, taken) for n in ["Acme: CZ/SK", "Acme: CZ/SK", "x" * 40, ""]]

    assert names == ["Acme  CZ SK", "Acme  CZ SK (2)", "x" * 31, "Sheet"]


def sheets_xml(path):
    with zipfile.ZipFile(path) as workbook:
        return {n: workbook.read(n) for n in workbook.namelist() if n.startswith("xl/")}


def test_sheets_fed_rows_in_turns_equal_sheets_written_one_after_the_other(tmp_path):
    first = [(date(2026, 11, d), f"Campaign {d}", d, Decimal(d) / 7, d / 100, None) for d in range(1, 25)]
    second = [(date(2026, 10, d), f"Other {d}", 2 * d, Decimal(d), d / 50, Decimal(3)) for d in range(1, 18)]
    sheets = [Sheet("Acme", COLUMNS, first, currency="CZK", goals={"cpa": Decimal("2")}, notes=["Period: x"]),
              Sheet("Garden", COLUMNS, second, currency="CZK", goals={"cpa": Decimal("2")}, notes=["Period: x"])]
    write_xlsx(tmp_path / "whole.xlsx", sheets)

    with XlsxFile(tmp_path / "turns.xlsx") as workbook:
        acme, garden = workbook.add_sheet(sheets[0]), workbook.add_sheet(sheets[1])
        for start in range(0, 25, 5):
            acme.write(first[start:start + 5])
            garden.write(second[start:start + 5])

    assert workbook.rows == len(first) + len(second)
    assert sheets_xml(tmp_path / "turns.xlsx") == sheets_xml(tmp_path / "whole.xlsx")


def test_csv_money_has_its_currencys_minor_unit_and_ratios_two_decimals(tmp_path):
    path = tmp_path / "report.csv"
    columns = [Column("currency", "Currency"), Column("cost", "Cost", ColumnKind.MONEY),
               Column("roas", "ROAS", ColumnKind.RATIO), Column("pno", "PNO", ColumnKind.PERCENT),
               Column("conversions", "Conversions", ColumnKind.DECIMAL)]
    rows = [("CZK", Decimal("3891.130000"), 4.5, 0.22, Decimal("12.000000")),
            ("JPY", Decimal("52340.500000"), 0.456789, 0.123456, Decimal("2.345678")),
            ("KWD", Decimal("12.345600"), None, None, Decimal("0"))]

    write_csv(path, columns, rows)

    lines = path.read_text(encoding="utf-8-sig").splitlines()
    assert lines == ["Currency,Cost,ROAS,PNO (%),Conversions",
                     "CZK,3891.13,4.50,22.00,12",
                     "JPY,52341,0.46,12.35,2.35",  # yen have no minor unit
                     "KWD,12.346,,,0"]  # fils: three decimals
