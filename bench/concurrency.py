"""Concurrency benchmark: a 50-account Google Ads job against the stand-in, every answer 200 ms late.

Ideal wall time = 50 × 0.2 s / concurrency 8 = 1.25 s; target ≤ 1.25 × ideal.
Run: make bench-concurrency
"""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from ppc_robot.lib.accounts import link_service_account
from ppc_robot.lib.credentials import Vault, generate_key
from ppc_robot.lib.db import make_engine, make_session_factory
from ppc_robot.lib.folders import root_folder
from ppc_robot.lib.jobs import create_definition, create_job
from ppc_robot.lib.models import Base, ClientAccount, JobRun, OutputType, Platform
from ppc_robot.lib.reports.performance import default_parameters
from ppc_robot.lib.runner import RunnerSettings, execute_run
from ppc_robot.lib.users import create_user
from ppc_robot.web import models as _web  # noqa: F401
from tests.stubs.google import CLIENT_ID, CLIENT_SECRET, DEVELOPER_TOKEN, Customer, GoogleStub
from tests.support.platforms import google_settings

ACCOUNTS, LATENCY, CONCURRENCY = 50, 0.2, 8


def main() -> None:
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
    stub.latency = LATENCY
    before = len(stub.requests)
    started = time.perf_counter()
    outcome = execute_run(factory, run_id, runner)
    seconds = time.perf_counter() - started
    calls = len(stub.requests) - before
    stub.stop()
    with factory() as session:
        stored = session.get_one(JobRun, run_id)
        assert outcome == "succeeded", stored.error_message
        rows = stored.rows
    ideal = ACCOUNTS * LATENCY / CONCURRENCY
    print(f"{ACCOUNTS} accounts, {calls} platform calls answered after {LATENCY * 1000:.0f} ms each, "
          f"concurrency {CONCURRENCY}: {seconds:.2f} s for {rows} rows")
    print(f"ideal {ideal:.2f} s → {seconds / ideal:.2f} × ideal  target ≤ 1.25 ×")


if __name__ == "__main__":
    main()
