"""CSV output: UTF-8 (with a BOM so Excel detects it), a chosen delimiter, RFC 4180 quoting."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ppc_robot.lib.outputs.columns import Column, ColumnKind, neutralise_formula


def _cell(column: Column, value: Any) -> str:
    if value is None:
        return ""
    if column.kind is ColumnKind.TEXT:
        return neutralise_formula(str(value))
    return str(value)


def write_csv(path: Path, columns: Sequence[Column], rows: Iterable[Sequence[Any]],
              *, delimiter: str = ",", last_row: str | None = None) -> int:
    """Write rows (tuples in column order) to `path`; returns the number of data rows.

    `last_row` (a partial report's note) ends the file as a row of its own: the text in the
    first cell, the others empty, so every line keeps the header's number of cells.
    """
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        writer.writerow([c.label for c in columns])
        for row in rows:
            writer.writerow([_cell(c, v) for c, v in zip(columns, row, strict=True)])
            count += 1
        if last_row:
            writer.writerow([neutralise_formula(last_row)] + [""] * (len(columns) - 1))
    return count
