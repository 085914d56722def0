"""Concurrency benchmark: a 50-account Google Ads job against the stand-in, every answer 200 ms late.

Ideal wall time = 50 × 0.2 s / concurrency 8 = 1.25 s; target ≤ 1.25 × ideal. The measured run
is the job's first, right after the login was linked. Before the clock starts, the report types
are loaded, as every worker (embedded or Celery) does when it starts; `--cold` leaves that import
inside the measured run, as if the worker had not.
Run: make bench-concurrency    (or: python -m bench.concurrency --cold)
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from sqlalchemy import select

from ppc_robot.lib.accounts import link_service_account
from ppc_robot.lib.credentials import Vault, generate_key
from ppc_robot.lib.db import make_engine, make_session_factory
from ppc_robot.lib.folders import root_folder
from ppc_robot.lib.jobs import create_definition, create_job
from ppc_robot.lib.models import Base, ClientAccount, JobRun, OutputType, Platform, PlatformQuota
from ppc_robot.lib.reports.performance import default_parameters
from ppc_robot.lib.runner import RunnerSettings, execute_run, load_report_types
from ppc_robot.lib.users import create_user
from ppc_robot.web import models as _web  # noqa: F401
from tests.stubs.google import CLIENT_ID, CLIENT_SECRET, DEVELOPER_TOKEN, Customer, GoogleStub
from tests.support.platforms import google_settings

ACCOUNTS, LATENCY, CONCURRENCY = 50, 0.2, 8


def _kind(path: str) -> str:
    if path == "/token":
        return "token"
    if "listAccessibleCustomers" in path:
        return "listAccessibleCustomers"
    return "searchStream"


def _bare(url: str) -> float:
    """The same number of calls, 8 at a time through one httpx client, without the app: the
    floor this machine allows at the moment (it is shared, and its load moves the figures)."""
    with httpx.Client() as http, ThreadPoolExecutor(CONCURRENCY) as pool:
        started = time.perf_counter()
        list(pool.map(lambda _: http.get(url + "/v25/customers:listAccessibleCustomers"),
                      range(ACCOUNTS)))
        return time.perf_counter() - started


def main(cold: bool = False) -> None:
    stub = GoogleStub().start()
    children = [f"{2000000000 + n}" for n in range(ACCOUNTS)]
    stub.add(Customer("1112223333", "Agency MCC", manager=True, children=children))
    stub.accessible = ["1112223333"]
    day = date(2026, 11, 24)
    for n, customer in enumerate(children):
        stub.add(Customer(customer, f"Client {n:02}", campaigns={
            "Brand": [(day, 1000 + n, 50 + n, 123450000, 2.0, 900.0)],
            "Generic": [(day, 2000 + n, 20 + n, 54320000, 1.0, 300.0)]}))
    key = generate_key()
    folder = Path(tempfile.mkdtemp())
    engine = make_engine(f"sqlite:///{folder / 'bench.sqlite3'}")
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    settings = google_settings(stub)
    with factory() as session:
        user = create_user(session, "bench@example.test", "a long bench password")
        link_service_account(session, user, Platform.GOOGLE_ADS,
                             {"refresh_token": stub.issue_refresh_token()}, vault=Vault([key]),
                             settings=settings)
        accounts = session.scalars(select(ClientAccount).where(ClientAccount.external_id.in_(children))).all()
        definition = create_definition(session, user.id, "performance", version=2, output_type=OutputType.CSV,
                                       parameters=default_parameters() | {"dimensions": ["client_account", "campaign"],
                                                                          "metrics": ["clicks", "cost", "cpc"]})
        job = create_job(session, root_folder(session, user), definition, "Fifty accounts")
        job.client_accounts = list(accounts)
        run = JobRun(user_id=user.id, job_id=job.id, scheduled_at=datetime(2026, 11, 25, 6, tzinfo=UTC))
        session.add(run)
        session.commit()
        run_id = run.id
    config = {"PPC_ROBOT_CREDENTIALS_KEY": key, "PPC_ROBOT_GOOGLE_ADS_URL": stub.url,
              "PPC_ROBOT_GOOGLE_ADS_DEVELOPER_TOKEN": DEVELOPER_TOKEN,
              "PPC_ROBOT_GOOGLE_OAUTH_TOKEN_URL": stub.url + "/token",
              "PPC_ROBOT_GOOGLE_CLIENT_ID": CLIENT_ID, "PPC_ROBOT_GOOGLE_CLIENT_SECRET": CLIENT_SECRET}
    runner = RunnerSettings(outputs_dir=folder, account_concurrency=CONCURRENCY, app_config=config)
    if not cold:
        loading = time.perf_counter()
        load_report_types()  # as every worker does when it starts
        print(f"report types loaded before the run in {time.perf_counter() - loading:.2f} s "
              "(a worker does this when it starts)")
    stub.latency = LATENCY
    before = len(stub.requests)
    started = time.perf_counter()
    outcome = execute_run(factory, run_id, runner)
    seconds = time.perf_counter() - started
    made = stub.requests[before:]
    bare = _bare(stub.url)
    stub.stop()
    with factory() as session:
        stored = session.get_one(JobRun, run_id)
        assert outcome == "succeeded", stored.error_message
        rows = stored.rows
        counted = sum(session.scalars(select(PlatformQuota.used)))
    kinds = Counter(_kind(r.path) for r in made)
    searches = sum(1 for r in made if r.path.endswith("searchStream") and
                   "customer_client" in r.body.decode())
    if searches:
        kinds["searchStream"] -= searches
        kinds["customer_client hierarchy"] = searches
    ideal = ACCOUNTS * LATENCY / CONCURRENCY
    print(f"{ACCOUNTS} accounts, {len(made)} platform calls answered after {LATENCY * 1000:.0f} ms "
          f"each, concurrency {CONCURRENCY}{' (cold process)' if cold else ''}: {seconds:.2f} s "
          f"for {rows} rows")
    print("calls: " + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) +
          f"; quota counted {counted}")
    print(f"ideal {ideal:.2f} s → {seconds / ideal:.2f} × ideal  target ≤ 1.25 ×")
    print(f"(the same {ACCOUNTS} calls made bare, {CONCURRENCY} at a time, without the app: "
          f"{bare:.2f} s = {bare / ideal:.2f} × ideal)")
    output = Path("bench/output")
    output.mkdir(parents=True, exist_ok=True)
    (output / f"concurrency{'-cold' if cold else ''}.json").write_text(json.dumps({
        "accounts": ACCOUNTS, "latency_seconds": LATENCY, "concurrency": CONCURRENCY,
        "cold_process": cold, "seconds": round(seconds, 3), "ideal_seconds": ideal,
        "times_ideal": round(seconds / ideal, 3), "target_times_ideal": 1.25,
        "calls": dict(kinds), "quota_counted": counted, "bare_seconds": round(bare, 3)},
        indent=2))


if __name__ == "__main__":
    main(cold="--cold" in sys.argv[1:])
