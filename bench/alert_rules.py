"""Custom alert rules benchmark: 50 rules over 500 client accounts × 20 campaigns, with the
statistics store filled for 13 months (~4 million campaign rows, as bench/dashboard.py builds
them).

Times `read_accounts` + `evaluate_rules` (every store read included: the sums per level and
period) for rules mixing both levels, all five periods and every comparison kind (thresholds,
changes against the previous period and last year up, down or either way, worse than the
client's target), and
counts their SQL statements (constant: one per level, whatever the number of accounts, rules
and periods). Target: under 5 s on SQLite.

    make bench-alert-rules                  # SQLite in a temporary folder
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench make bench-alert-rules
    .venv/bin/python -m bench.alert_rules --accounts 100 --campaigns 5 --days 400

Results go to bench/output/alert_rules-<database>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import event, select, text

from bench.dashboard import build_app, make_agency
from ppc_robot.lib.alerts import Condition, Rule, evaluate_rules, read_accounts
from ppc_robot.lib.alerts.model import COMPARISONS, PERIODS, TARGET_WORSE
from ppc_robot.lib.models import Base, ClientAccount
from ppc_robot.lib.pacing import local_today
from ppc_robot.lib.times import zone_of
from ppc_robot.web.extensions import db

ZONE = "Europe/Prague"
THRESHOLD_METRICS = ("cost", "clicks", "impressions", "conversions", "conversion_value", "ctr",
                     "cpc", "cpa", "roas", "pno", "conversion_rate")
VALUES = {"cost": "500", "clicks": "30", "impressions": "900", "conversions": "2",
          "conversion_value": "100", "ctr": "4", "cpc": "1.5", "cpa": "300", "roas": "3",
          "pno": "20", "conversion_rate": "5"}


def bench_rules(count: int) -> list[Rule]:
    """`count` rules cycling through levels, periods, comparisons and metrics; every third has
    a minimum volume, every fourth a second condition."""
    comparisons = list(COMPARISONS)
    periods = list(PERIODS)
    targets = list(TARGET_WORSE)
    rules = []
    for n in range(count):
        comparison = comparisons[n % len(comparisons)]
        metric = (targets[n % len(targets)] if comparison == "worse_than_target"
                  else THRESHOLD_METRICS[n % len(THRESHOLD_METRICS)])
        value = (None if comparison == "worse_than_target"
                 else Decimal("20") if comparison.endswith(("_previous", "_last_year"))
                 else Decimal(VALUES[metric]))
        conditions = [Condition(metric, comparison, value)]
        if n % 4 == 0:
            conditions.append(Condition("clicks", "ge", Decimal(10)))
        rules.append(Rule(f"Rule {n:02}", "campaign" if n % 2 else "account",
                          periods[n % len(periods)], tuple(conditions),
                          "clicks" if n % 3 == 0 else None, Decimal(50) if n % 3 == 0 else None))
    return rules


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--campaigns", type=int, default=20, help="per account")
    parser.add_argument("--days", type=int, default=400,
                        help="13 months and the last 30 days' same period last year")
    parser.add_argument("--rules", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="ppc-bench-"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{workdir / 'bench.sqlite3'}"
    app = build_app(database_url, workdir / "instance")
    with app.app_context():
        Base.metadata.drop_all(db.engine)
        with db.engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        Base.metadata.create_all(db.engine)

    started = time.perf_counter()
    agency = make_agency(app, "rules@bench.test", clients=200, accounts=args.accounts,
                         days=args.days, campaigns=args.campaigns)
    built = time.perf_counter() - started
    print(f"built {agency['account_days']:,} account days and {agency['campaign_days']:,} "
          f"campaign days in {built:.1f} s", flush=True)

    rules = bench_rules(args.rules)
    today = local_today(datetime.now(UTC), zone_of(ZONE))
    # Wall time, and the process's CPU time (SQLite runs in it): on a shared machine the wall
    # time includes waiting for a core.
    timings: list[float] = []
    cpu_timings: list[float] = []
    statements, hits = 0, 0
    with app.app_context():
        engine = db.engine
        with db.session() as session:
            ids = list(session.scalars(select(ClientAccount.id).where(
                ClientAccount.user_id == agency["user_id"])))
        counted: list[str] = []

        def record(*event_args: Any) -> None:
            counted.append(event_args[2])

        for _ in range(args.repeat):
            counted.clear()
            event.listen(engine, "before_cursor_execute", record)
            with db.session() as session:
                begun, cpu = time.perf_counter(), time.process_time()
                accounts = read_accounts(session, ids)
                found = evaluate_rules(session, rules, accounts, today)
                timings.append(time.perf_counter() - begun)
                cpu_timings.append(time.process_time() - cpu)
            event.remove(engine, "before_cursor_execute", record)
            statements, hits = len(counted), len(found)
            print(f"  {timings[-1]:.2f} s ({cpu_timings[-1]:.2f} s CPU), {statements} statements, "
                  f"{hits:,} hits", flush=True)
    result = {
        "database": engine.dialect.name, "accounts": args.accounts,
        "campaigns_per_account": args.campaigns, "days": args.days, "rules": args.rules,
        "campaign_days": agency["campaign_days"], "account_days": agency["account_days"],
        "seconds_median": round(statistics.median(timings), 3),
        "seconds_max": round(max(timings), 3), "seconds_min": round(min(timings), 3),
        "cpu_seconds_median": round(statistics.median(cpu_timings), 3),
        "load_average": os.getloadavg()[0],
        "statements": statements, "hits": hits, "target_seconds": 5.0,
    }
    print(json.dumps(result, indent=2))
    output = Path(__file__).parent / "output"
    output.mkdir(exist_ok=True)
    (output / f"alert_rules-{result['database']}.json").write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
