"""Reading an XLSX workbook back with the standard library: sheet names and cell values."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
      "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships"}
RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"


def _column(reference: str) -> int:
    letters = re.match(r"[A-Z]+", reference).group(0)  # type: ignore[union-attr]
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number - 1


def read_workbook(path: Path) -> dict[str, list[list[str]]]:
    """Every sheet by name, in the workbook's order: rows of cell texts ("" for an empty cell)."""
    with zipfile.ZipFile(path) as archive:
        shared: list[str] = []
        if "xl/sharedStrings.xml" in archive.namelist():
            strings = ElementTree.fromstring(archive.read("xl/sharedStrings.xml"))
            shared = ["".join(t.text or "" for t in si.iter(f"{{{NS['m']}}}t")) for si in strings]
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
        targets = {rel.get("Id"): rel.get("Target") for rel in rels.iter(f"{RELS}Relationship")}
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
        sheets: dict[str, list[list[str]]] = {}
        for sheet in workbook.iter(f"{{{NS['m']}}}sheet"):
            target = targets[sheet.get(f"{{{NS['r']}}}id")].lstrip("/").removeprefix("xl/")
            root = ElementTree.fromstring(archive.read(f"xl/{target}"))
            rows: list[list[str]] = []
            for row in root.iter(f"{{{NS['m']}}}row"):
                index = int(row.get("r")) - 1
                while len(rows) <= index:
                    rows.append([])
                cells = rows[index]
                for cell in row.iter(f"{{{NS['m']}}}c"):
                    column = _column(cell.get("r"))
                    value = cell.find("m:v", NS)
                    if cell.get("t") == "s":
                        text = shared[int(value.text)]
                    elif cell.get("t") == "inlineStr":
                        text = "".join(t.text or "" for t in cell.iter(f"{{{NS['m']}}}t"))
                    else:
                        text = value.text if value is not None else ""
                    cells.extend([""] * (column + 1 - len(cells)))
                    cells[column] = text or ""
            sheets[sheet.get("name")] = rows
    return sheets


RECALCULATE_ON_LOAD = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
</oor:items>
"""


def recalculated_with_libreoffice(xlsx_path: Path, tmp_path: Path) -> list[list[str]]:
    """The first sheet as LibreOffice computes it: every formula recalculated on load (not the
    values cached in the file), cells as raw values (not as formatted), hidden columns included."""
    import csv
    import shutil
    import subprocess

    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        raise AssertionError("LibreOffice is not installed: `make test` installs libreoffice-calc.")
    profile = tmp_path / "lo-recalc"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALCULATE_ON_LOAD, encoding="utf-8")
    out = tmp_path / "lo-out"
    subprocess.run([office, "--headless", "--norestore", f"-env:UserInstallation=file://{profile}",
                    "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false",
                    "--outdir", str(out), str(xlsx_path)], check=True, capture_output=True, timeout=120)
    with (out / (xlsx_path.stem + ".csv")).open(encoding="utf-8") as handle:
        return list(csv.reader(handle))
