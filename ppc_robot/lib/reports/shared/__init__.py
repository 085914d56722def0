"""What every report type needs, written once and handed to it by the runner as a `ReportRun`.

| module | what it does |
| --- | --- |
| accounts.py | the job's level resolved to client accounts (`AccountToRead`), missing ones, goals |
| logins.py | one platform client per login per run: quota limiter, rotated tokens, login health |
| fetch.py | a per-account function over every account at once, bounded, with progress and retries |
| outputs.py | a table (`TableLayout` + polars frames) to XLSX, CSV or Google Sheets; file naming |
| google_sheet.py | the job's Google spreadsheet: the user's Google token, creating it at the first run |
| preview.py | the first rows and a chart by day, for the job page |
| workdir.py | the run's work folder on disk |
| run.py | `ReportRun`, the above for one run, and `register_report_run` |

How to add a report type (`performance` is the example to copy):

1. Write `lib/reports/<name>.py`: its parameters form (a `ReportParametersForm`), default
   parameters, and a `ReportType` (name, label, version, upgrades from older versions).
   Register it in `lib/reports/__init__.py` with `register_report_type`.
2. In the same module (or `<name>_run.py` beside it when it grows), an executor
   `def execute_<name>(run: ReportRun) -> RunResult`:
   - `run.parameters` are validated and current; `run.local_day` is the job's day;
   - `accounts = run.accounts()` resolves the job's level (missing accounts are kept);
   - `run.fetch(accounts, per_account)` calls `per_account(call)` for each account at once;
     `call.client()` is the login's platform client, hold `call.slot` around its calls and
     wrap an attempt in `retried(...)` to ride out rate limits;
   - compute the table as a pure function of frames and parameters (unit-test it alone);
   - `run.write(TableLayout(...), frames, preview=Preview(...))` writes the job's output;
   - `return run.done(rows=..., output_file=..., output_state=...)`.
   Then `register_report_run("<name>", execute_<name>)` at the module's end: the runner finds
   it by importing every module of `lib/reports` (`load_report_types`).
3. Test the computation with small frames, and the whole through the runner on the Sandbox
   (`tests/lib/test_performance_report.py` shows how).
"""

from __future__ import annotations

from ppc_robot.lib.reports.shared.accounts import AccountToRead, goals_of, resolve_accounts
from ppc_robot.lib.reports.shared.fetch import (
    AccountCall,
    Fetched,
    failure_reason,
    fetch_all,
    nothing_read,
    retried,
)
from ppc_robot.lib.reports.shared.logins import Logins
from ppc_robot.lib.reports.shared.outputs import (
    TableLayout,
    output_name,
    partial_note,
    write_table,
    xlsx_rows,
)
from ppc_robot.lib.reports.shared.preview import ChartSeries, Preview
from ppc_robot.lib.reports.shared.run import ReportRun, register_report_run, report_parameters
from ppc_robot.lib.reports.shared.workdir import work_folder

__all__ = [
    "AccountCall",
    "AccountToRead",
    "Fetched",
    "Logins",
    "ChartSeries",
    "Preview",
    "ReportRun",
    "TableLayout",
    "failure_reason",
    "fetch_all",
    "goals_of",
    "nothing_read",
    "output_name",
    "partial_note",
    "register_report_run",
    "report_parameters",
    "resolve_accounts",
    "retried",
    "work_folder",
    "write_table",
    "xlsx_rows",
]
