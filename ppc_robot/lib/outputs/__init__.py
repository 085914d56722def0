"""Writing report outputs: XLSX, CSV and Google Sheets."""

from ppc_robot.lib.outputs.columns import Column, ColumnKind, neutralise_formula
from ppc_robot.lib.outputs.csv_writer import write_csv
from ppc_robot.lib.outputs.xlsx import Sheet, SheetWriter, XlsxFile, write_xlsx

__all__ = ["Column", "ColumnKind", "Sheet", "SheetWriter", "XlsxFile", "neutralise_formula", "write_csv",
           "write_xlsx"]
