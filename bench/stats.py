"""Statistics store benchmarks against the Google Ads stand-in (never part of the tests).

refresh:  the daily refresh of 500 accounts under one login, every answer 200 ms late, at
          concurrency 8. Ideal wall time = 500 × 0.2 s / 8 = 12.5 s; target ≤ 1.3 × ideal.
backfill: 13 months of one new account: the number of platform requests (constant: one per
          3-month chunk, 5 for 13 months), and the days stored.
Run: make bench-stats-refresh / make bench-stats-backfill  (or: python -m bench.stats refresh)
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from ppc_robot.lib.accounts import link_service_account
from ppc_robot.lib.credentials import Vault, generate_key
from ppc_robot.lib.db import make_engine, make_session_factory
from ppc_robot.lib.models import Base, Platform
from ppc_robot.lib.models.stats import AccountDay, CampaignDay
from ppc_robot.lib.stats import StatsSettings, refresh_due_statistics
from ppc_robot.lib.users import create_user
from ppc_robot.web import models as _web  # noqa: F401
from tests.stubs.google import Customer, GoogleStub
from tests.support.platforms import google_settings

LATENCY, CONCURRENCY = 0.2, 8
NOW = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)  # 06:00 in Prague: yesterday has settled
OUTPUT = Path("bench/output")


def _setup(accounts: int, days: int) -> tuple[GoogleStub, object, str]:
    stub = GoogleStub().start()
    children = [f"{2000000000 + n}" for n in range(accounts)]
    stub.add(Customer("1112223333", "Agency MCC", manager=True, children=children))
    stub.accessible = ["1112223333"]
    last = NOW.date() - timedelta(days=1)
    for n, customer in enumerate(children):
        campaigns = {name: [(last - timedelta(days=d), 1000 + n, 50 + n, 123450000 + d, 2.0,
                             900.0) for d in range(days)] for name in ("Brand", "Generic")}
        stub.add(Customer(customer, f"Client {n:03}", campaigns=campaigns))
    key = generate_key()
    folder = Path(tempfile.mkdtemp())
    engine = make_engine(f"sqlite:///{folder / 'bench.sqlite3'}")
    Base.metadata.create_all(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        user = create_user(session, "bench@example.test", "a long bench password")
        link_service_account(session, user, Platform.GOOGLE_ADS,
                             {"refresh_token": stub.issue_refresh_token()}, vault=Vault([key]),
                             settings=google_settings(stub))
        session.commit()
    return stub, factory, key


def _counts(factory) -> tuple[int, int]:
    with factory() as session:
        return (session.scalar(select(func.count()).select_from(AccountDay)),
                session.scalar(select(func.count()).select_from(CampaignDay)))


def _write(name: str, figures: dict) -> None:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / f"{name}.json").write_text(json.dumps(figures, indent=2, default=str))


def refresh(accounts: int = 500) -> None:
    stub, factory, key = _setup(accounts, days=7)
    settings = StatsSettings(platform=google_settings(stub), credentials_key=key,
                             concurrency=CONCURRENCY, batch=accounts, backfill_months=0)
    stub.latency = LATENCY
    before = len(stub.requests)
    started = time.perf_counter()
    report = refresh_due_statistics(factory, settings, NOW)  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    requests = len(stub.requests) - before
    stub.stop()
    account_days, campaign_days = _counts(factory)
    ideal = accounts * LATENCY / CONCURRENCY
    print(f"daily refresh of {accounts} accounts, {requests} platform requests answered after "
          f"{LATENCY * 1000:.0f} ms each, concurrency {CONCURRENCY}: {seconds:.2f} s "
          f"({report.refreshed} refreshed, {report.failed} failed; {account_days} account days, "
          f"{campaign_days} campaign days stored)")
    print(f"ideal {ideal:.2f} s → {seconds / ideal:.2f} × ideal  target ≤ 1.3 ×  "
          f"most requests in flight: {stub.most_in_flight}")
    _write("stats-refresh", {
        "accounts": accounts, "latency_seconds": LATENCY, "concurrency": CONCURRENCY,
        "seconds": round(seconds, 3), "ideal_seconds": ideal,
        "times_ideal": round(seconds / ideal, 3), "target_times_ideal": 1.3,
        "platform_requests": requests, "refreshed": report.refreshed, "failed": report.failed,
        "account_days": account_days, "campaign_days": campaign_days,
        "most_in_flight": stub.most_in_flight})


def backfill() -> None:
    stub, factory, key = _setup(1, days=400)
    settings = StatsSettings(platform=google_settings(stub), credentials_key=key,
                             repull_days=7, backfill_months=13, chunk_months=3)
    before = len(stub.requests)
    started = time.perf_counter()
    report = refresh_due_statistics(factory, settings, NOW)  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    made = [r for r in stub.requests[before:] if r.path.endswith("searchStream")]
    stub.stop()
    ranges = sorted(r.json()["query"].split("BETWEEN ")[1] for r in made)
    account_days, campaign_days = _counts(factory)
    backfill_requests = len(made) - report.refreshed
    print(f"backfill of 13 months of one account: {backfill_requests} platform requests "
          f"(+ {report.refreshed} for the daily re-pull of the last 7 days) in {seconds:.2f} s; "
          f"{account_days} account days, {campaign_days} campaign days stored")
    for text in ranges:
        print("  " + text)
    _write("stats-backfill", {
        "months": 13, "chunk_months": 3, "backfill_requests": backfill_requests,
        "refresh_requests": report.refreshed, "ranges": ranges, "seconds": round(seconds, 3),
        "account_days": account_days, "campaign_days": campaign_days})


if __name__ == "__main__":
    {"refresh": refresh, "backfill": backfill}[(sys.argv[1:] or ["refresh"])[0]]()
