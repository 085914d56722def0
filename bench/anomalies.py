"""Anomaly detection benchmark: 500 client accounts × 20 campaigns with 26 weeks of history.

Fills a fresh database with a steady daily series per campaign (weekly seasonality and noise,
an anomaly injected into one campaign in a hundred, one campaign in two hundred stopped
yesterday), then times what a run of the `anomalies` report type does between its refresh and
its output: the store read (`read_days`, a constant number of queries) and the detection over
every account and campaign, and builds the output table. Target: under 5 s on SQLite.

    make bench-anomalies                    # SQLite in a temporary folder
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench make bench-anomalies
    .venv/bin/python -m bench.anomalies --accounts 100 --campaigns 10 --weeks 8

Results go to bench/output/anomalies-<database>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, event, text

from bench.dashboard import _bulk
from ppc_robot.lib.alerts.anomalies import detect_anomalies
from ppc_robot.lib.alerts.anomalies_read import AccountInfo, read_days
from ppc_robot.lib.db import make_engine, make_session_factory
from ppc_robot.lib.models import (
    AccountDay,
    Base,
    CampaignDay,
    ClientAccount,
    Platform,
    ServiceAccount,
    User,
)
from ppc_robot.lib.reports.anomalies_run import anomalies_frame

YESTERDAY = date(2026, 11, 24)
SEASON = (1.10, 1.08, 1.05, 1.00, 0.92, 0.70, 0.62)
METRIC_COLUMNS = ["impressions", "clicks", "cost_micros", "conversions",
                  "conversion_value_micros", "fetched_at"]


def _fill(engine: Any, accounts: int, campaigns: int, weeks: int) -> tuple[list[AccountInfo], int]:
    """The user, login and accounts, then the campaign and account days; returns the accounts
    and how many campaign rows were written."""
    fetched = datetime(2026, 12, 1, tzinfo=UTC).isoformat(sep=" ")
    first = YESTERDAY - timedelta(days=7 * weeks)
    days = [first + timedelta(days=i) for i in range((YESTERDAY - first).days + 1)]
    factory = make_session_factory(engine)
    with factory() as session:
        user = User(email="bench@example.com", password_hash="x", name="Bench")
        session.add(user)
        session.flush()
        login = ServiceAccount(user_id=user.id, platform=Platform.SANDBOX, external_id="bench",
                               name="Bench login")
        session.add(login)
        session.flush()
        rows = [ClientAccount(user_id=user.id, service_account_id=login.id,
                              external_id=f"bench-{i}", name=f"Account {i:03d}",
                              currency="CZK", time_zone="Europe/Prague")
                for i in range(accounts)]
        session.add_all(rows)
        session.commit()
        infos = [AccountInfo(a.id, a.name, a.currency) for a in rows]
        user_id = user.id
    rng = random.Random(7)
    totals: dict[tuple[int, date], list[int]] = {}

    def campaign_rows() -> Iterator[tuple[Any, ...]]:
        for info in infos:
            for c in range(campaigns):
                size = rng.uniform(50, 500)
                stopped = rng.random() < 0.005
                spike = 3.0 if rng.random() < 0.01 else 1.0
                for day in days:
                    scale = size * SEASON[day.weekday()] * rng.uniform(0.9, 1.1)
                    if day == YESTERDAY:
                        scale = 0.0 if stopped else scale * spike
                    clicks = int(scale)
                    impressions = clicks * 25
                    cost = clicks * 9_500_000
                    conversions = clicks // 30
                    value = conversions * 450_000_000
                    total = totals.setdefault((info.client_account_id, day), [0, 0, 0, 0, 0])
                    for i, amount in enumerate((impressions, clicks, cost, conversions, value)):
                        total[i] += amount
                    yield (info.client_account_id, str(10_000 + c), day.isoformat(),
                           f"Campaign {c:02d}", impressions, clicks, cost, conversions, value,
                           fetched)

    with engine.begin() as connection:
        written = _bulk(connection, CampaignDay.__table__,
                        ["client_account_id", "campaign_id", "day", "campaign_name",
                         *METRIC_COLUMNS], campaign_rows())
        _bulk(connection, AccountDay.__table__,
              ["client_account_id", "day", "user_id", "currency", *METRIC_COLUMNS],
              ((account_id, day.isoformat(), user_id, "CZK", *values, fetched)
               for (account_id, day), values in totals.items()))
    return infos, written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--campaigns", type=int, default=20)
    parser.add_argument("--weeks", type=int, default=26)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        engine = make_engine(url)
        # Every table the database holds, the web's too (another benchmark or the app may
        # have made them): the lib's metadata alone cannot drop a table others depend on.
        existing = MetaData()
        existing.reflect(engine)
        existing.drop_all(engine)
        Base.metadata.create_all(engine)
        started = time.perf_counter()
        infos, written = _fill(engine, options.accounts, options.campaigns, options.weeks)
        fill_seconds = time.perf_counter() - started
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("ANALYZE"))
            else:
                connection.exec_driver_sql("ANALYZE")
        statements: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if not statement.startswith(("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA")):
                statements.append(statement)

        factory = make_session_factory(engine)
        timings = []
        for attempt in range(options.repeat):
            statements.clear()
            event.listen(engine, "before_cursor_execute", record)
            started = time.perf_counter()
            with factory() as session:
                days = read_days(session, infos, YESTERDAY, options.weeks)
            read = time.perf_counter() - started
            event.remove(engine, "before_cursor_execute", record)
            detection = detect_anomalies(days, YESTERDAY, weeks=options.weeks,
                                         sensitivity=Decimal(3), min_volume=10)
            detected = time.perf_counter() - started
            frame = anomalies_frame(detection)
            total = time.perf_counter() - started
            timings.append({"attempt": attempt + 1, "read_seconds": round(read, 3),
                            "detect_seconds": round(detected - read, 3),
                            "table_seconds": round(total - detected, 3),
                            "total_seconds": round(total, 3)})
            print(f"attempt {attempt + 1}: store read {read:.2f} s ({len(statements)} queries), "
                  f"detection {detected - read:.2f} s, table {total - detected:.2f} s, "
                  f"total {total:.2f} s")
        result = {
            "database": engine.dialect.name, "accounts": options.accounts,
            "campaigns_per_account": options.campaigns, "weeks": options.weeks,
            "campaign_rows": written, "fill_seconds": round(fill_seconds, 1),
            "entities": len(days.entities), "anomalies": len(detection.anomalies),
            "unjudged": len(detection.unjudged), "below_volume": detection.below_volume,
            "table_rows": frame.height, "queries": len(statements), "runs": timings,
            "best_total_seconds": min(t["total_seconds"] for t in timings),
            "target_seconds": 5.0}
        print(f"{written:,} campaign rows written in {fill_seconds:.0f} s; "
              f"{len(days.entities):,} accounts and campaigns judged, {len(detection.anomalies)} anomalies;"
              f" best total {result['best_total_seconds']:.2f} s (target < 5 s)")
        output = Path(__file__).parent / "output"
        output.mkdir(exist_ok=True)
        (output / f"anomalies-{engine.dialect.name}.json").write_text(
            json.dumps(result, indent=2), encoding="utf-8")
        engine.dispose()


if __name__ == "__main__":
    main()
