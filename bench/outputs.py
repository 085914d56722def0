"""Output benchmark, side by side in one run:

- our pipeline (Sandbox rows → polars metrics → XLSX through the runner) against raw
  XlsxWriter writing the same Sandbox rows (target: pipeline ≥ 0.5× raw rows/s);
- a report of over 1,000,000 rows through the pipeline: peak RSS (target < 300 MB). It is the
  same report over 27 years (1999–2025) of the five Sandbox accounts: a row per day, account,
  campaign, ad group and device, 1,005,924 rows, sorted by date.

Each measurement runs in its own process so peak RSS is its own. Run: make bench-outputs
(`python -m bench.outputs cost` sorts the large report by cost, highest first, instead.)
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

DIMENSIONS = ("date", "campaign", "ad_group", "keyword", "device")
REPORT_DIMENSIONS = ("date", "client_account", "campaign", "ad_group", "device")
YEARS = 2
LARGE_YEARS = 27  # 1999–2025: 1,005,924 rows


def _sandbox_rows(years: int):
    from ppc_robot.lib.platforms import ReportRequest
    from ppc_robot.lib.platforms.sandbox import SANDBOX_ACCOUNTS, SandboxClient

    client = SandboxClient()
    for account in SANDBOX_ACCOUNTS:
        request = ReportRequest(account, date(2026 - years, 1, 1), date(2025, 12, 31), DIMENSIONS)
        for row in client.fetch_report(request):
            yield account, row


def raw(years: int, folder: Path) -> dict[str, float]:
    """XlsxWriter alone writing the report's rows, prepared beforehand and not timed."""
    import xlsxwriter

    sums: dict[tuple, list[float]] = {}
    for account, row in _sandbox_rows(years):
        key = (row.date, account.name, row.campaign, row.ad_group, row.device)
        acc = sums.setdefault(key, [0, 0, 0.0, 0.0, 0.0])
        acc[0] += row.impressions
        acc[1] += row.clicks
        acc[2] += float(row.cost)
        acc[3] += float(row.conversions)
        acc[4] += float(row.conversion_value)
    rows = []
    for (day, *texts), (imp, clicks, cost, conv, value) in sorted(sums.items()):
        rows.append(((day - date(1899, 12, 30)).days, *texts, imp, clicks, cost, conv, value,
                     clicks / imp if imp else None, cost / clicks if clicks else None,
                     cost / conv if conv else None, value / cost if cost else None,
                     cost / value if value else None))
    started = time.perf_counter()
    workbook = xlsxwriter.Workbook(str(folder / "raw.xlsx"), {"constant_memory": True})
    sheet = workbook.add_worksheet("Raw")
    for number, values in enumerate(rows, start=1):
        sheet.write_row(number, 0, values)
    workbook.close()
    return {"rows": len(rows), "seconds": time.perf_counter() - started}


def pipeline(years: int, folder: Path, sort_by: str = "date") -> dict[str, float]:
    from sqlalchemy import select

    from ppc_robot.lib.accounts import link_service_account
    from ppc_robot.lib.credentials import Vault, generate_key
    from ppc_robot.lib.db import make_engine, make_session_factory
    from ppc_robot.lib.folders import root_folder
    from ppc_robot.lib.jobs import create_definition, create_job
    from ppc_robot.lib.models import Base, ClientAccount, JobRun, OutputType, Platform
    from ppc_robot.lib.platforms import PlatformSettings
    from ppc_robot.lib.reports.performance import default_parameters
    from ppc_robot.lib.runner import RunnerSettings, execute_run
    from ppc_robot.lib.users import create_user
    from ppc_robot.web import models as _web  # noqa: F401

    key = generate_key()
    engine = make_engine(f"sqlite:///{folder / 'bench.sqlite3'}")
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        user = create_user(session, "bench@example.test", "a long bench password")
        login, _ = link_service_account(session, user, Platform.SANDBOX, {}, vault=Vault([key]),
                                        settings=PlatformSettings())
        parameters = default_parameters() | {
            "dimensions": list(REPORT_DIMENSIONS),
            "metrics": ["impressions", "clicks", "cost", "conversions", "conversion_value", "ctr", "cpc",
                        "cpa", "roas", "pno"],
            "date_range": "custom", "date_from": f"{2026 - years}-01-01", "date_to": "2025-12-31",
            "sort_by": sort_by, "sort_order": "asc" if sort_by == "date" else "desc"}
        definition = create_definition(session, user.id, "performance", version=2,
                                       output_type=OutputType.XLSX, parameters=parameters)
        job = create_job(session, root_folder(session, user), definition, "Benchmark")
        job.client_accounts = list(session.scalars(select(ClientAccount)))
        run = JobRun(user_id=user.id, job_id=job.id, scheduled_at=datetime(2026, 1, 2, tzinfo=UTC))
        session.add(run)
        session.commit()
        run_id = run.id
    settings = RunnerSettings(outputs_dir=folder, app_config={"PPC_ROBOT_CREDENTIALS_KEY": key})
    started = time.perf_counter()
    outcome = execute_run(factory, run_id, settings)
    seconds = time.perf_counter() - started
    with factory() as session:
        stored = session.get(JobRun, run_id)
        return {"rows": stored.rows or 0, "seconds": seconds, "outcome": outcome,
                "error": stored.error_message}


def measure(mode: str, years: int, *options: str) -> dict[str, float]:
    output = subprocess.run([sys.executable, __file__, mode, str(years), *options], check=True,
                            capture_output=True, text=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def main(large_sort: str = "date") -> None:
    years = YEARS
    ours, theirs = measure("pipeline", years), measure("raw", years)
    ours_rate, raw_rate = ours["rows"] / ours["seconds"], theirs["rows"] / theirs["seconds"]
    print(f"pipeline: {ours['rows']:,} report rows in {ours['seconds']:.2f} s = {ours_rate:,.0f} rows/s "
          f"(peak RSS {ours['rss_mb']:.0f} MB)")
    print(f"raw XlsxWriter: {theirs['rows']:,} rows in {theirs['seconds']:.2f} s = {raw_rate:,.0f} rows/s "
          f"(peak RSS {theirs['rss_mb']:.0f} MB)")
    print("(the pipeline's time includes fetching from the Sandbox and computing; raw XlsxWriter's "
          "covers writing only)")
    print(f"ratio pipeline / raw: {ours_rate / raw_rate:.2f}  target ≥ 0.5")
    big = measure("pipeline", LARGE_YEARS, large_sort)
    if big["outcome"] != "succeeded":
        raise SystemExit(f"the large report failed: {big['error']}")
    print(f"large report ({LARGE_YEARS} years, sorted by {large_sort}): {big['rows']:,} rows in "
          f"{big['seconds']:.1f} s = {big['rows'] / big['seconds']:,.0f} rows/s, peak RSS {big['rss_mb']:.0f} MB  "
          "target < 300 MB for 1,000,000 rows")


if __name__ == "__main__":
    if len(sys.argv) >= 3:
        with tempfile.TemporaryDirectory() as tmp:
            if sys.argv[1] == "pipeline":
                result = pipeline(int(sys.argv[2]), Path(tmp), *sys.argv[3:])
            else:
                result = raw(int(sys.argv[2]), Path(tmp))
        result["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result))
    else:
        main(*sys.argv[1:])
