"""Dashboard benchmark: 200 clients, 500 client accounts, 13 months of daily statistics.

Measures, in one run and under one server, the dashboard (and one client's page) against a bare
Flask endpoint doing one indexed query, and counts the SQL statements of each page for a user
with 5 client accounts and for the user with 500 (they must be equal: the dashboard's queries
aggregate in SQL, whatever the number of clients).

    make bench-dashboard                    # SQLite in a temporary folder
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench make bench-dashboard
    .venv/bin/python -m bench.dashboard --accounts 100 --clients 40 --days 120 --seconds 3

Data: `--accounts` accounts × `--days` days of AccountDay rows (~200,000 at full size) and
`--campaigns` campaigns per account and day of CampaignDay rows (~4 million), written with the
driver's executemany on SQLite and COPY on PostgreSQL, by default day by day as the daily refresh
writes them (`--order account`: account by account, as a backfill does, the worst case for
reading recent days). Results go to bench/output/dashboard-<database>-<order>-order.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import random
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask, render_template
from sqlalchemy import Connection, insert, select, text

from bench.folders import _settle, count_statements, requests_per_second, session_cookie
from ppc_robot.lib.credentials import generate_key
from ppc_robot.lib.models import (
    AccountDay,
    Base,
    CampaignDay,
    Client,
    ClientAccount,
    ClientAccountTag,
    Platform,
    ServiceAccount,
    StatsState,
    client_accounts_tags,
)
from ppc_robot.lib.pacing import local_today, settled_day
from ppc_robot.lib.times import zone_of
from ppc_robot.lib.users import create_user
from ppc_robot.web import create_app
from ppc_robot.web.extensions import db

ZONE = "Europe/Prague"
CURRENCIES = ("CZK", "CZK", "CZK", "EUR", "EUR", "USD")
BATCH = 50_000


def build_app(database_url: str, instance: Path) -> Flask:
    app = create_app({
        "DATABASE_URL": database_url,
        "SECRET_KEY": os.urandom(24).hex(),
        "PPC_ROBOT_CREDENTIALS_KEY": generate_key(),
        "INSTANCE_PATH": str(instance),
    })

    @app.route("/bench/bare/<int:account_id>")
    def bare(account_id: int) -> str:
        name = db.session.scalar(select(ClientAccount.name).where(ClientAccount.id == account_id))
        return name or ""

    @app.route("/bench/layout")
    def layout() -> str:
        return render_template("base.html")

    return app


def _bulk(connection: Connection, table: Any, columns: list[str], rows: Iterator[tuple]) -> int:
    """Write `rows` fast: COPY on PostgreSQL, the driver's executemany on SQLite."""
    written = 0
    if connection.dialect.name == "postgresql":
        raw = connection.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(
                f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                written += 1
        return written
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            connection.exec_driver_sql(sql, batch)
            written += len(batch)
            batch = []
    if batch:
        connection.exec_driver_sql(sql, batch)
        written += len(batch)
    return written


def make_agency(app: Flask, email: str, *, clients: int, accounts: int, days: int,
                campaigns: int, order: str = "day") -> dict[str, Any]:
    """A user with `clients` clients holding `accounts` accounts (a tenth in no client), each
    with `days` days of account rows and `campaigns` campaign rows a day."""
    rng = random.Random(email)
    now = datetime.now(UTC)
    through = settled_day(local_today(now, zone_of(ZONE)))
    first = through - timedelta(days=days - 1)
    with app.app_context():
        session = db.session()
        user = create_user(session, email, "benchmark password 123", time_zone=ZONE)
        login = ServiceAccount(user_id=user.id, platform=Platform.SANDBOX, external_id=email,
                               name="Sandbox")
        tag = ClientAccountTag(user_id=user.id, name="e-shop")
        session.add_all([login, tag])
        session.flush()
        client_rows = []
        for n in range(clients):
            currency = CURRENCIES[n % len(CURRENCIES)]
            client_rows.append(Client(
                user_id=user.id, name=f"Client {n:03}", currency=currency,
                monthly_budget=Decimal(rng.choice([30_000, 90_000, 250_000])) if n % 5 else None,
                target_cpa=Decimal(200) if n % 3 == 0 else None,
                target_roas=Decimal(4) if n % 3 == 1 else None,
                target_pno=Decimal("0.2") if n % 3 == 2 else None))
        session.add_all(client_rows)
        session.flush()
        client_ids = [c.id for c in client_rows]
        currencies = {c.id: c.currency for c in client_rows}
        account_objects = []
        for n in range(accounts):
            client_id = client_ids[n % len(client_ids)] if client_ids and n % 10 != 9 else None
            currency = currencies[client_id] if client_id else "CZK"
            if n % 25 == 0:
                currency = "EUR"  # some clients have accounts in two currencies
            account_objects.append(ClientAccount(
                user_id=user.id, service_account_id=login.id, client_id=client_id,
                external_id=f"{n}", name=f"Account {n:03}", currency=currency, time_zone=ZONE))
        session.add_all(account_objects)
        session.flush()
        account_ids = [(a.id, a.currency) for a in account_objects]
        session.execute(insert(client_accounts_tags), [
            {"client_account_id": a.id, "tag_id": tag.id} for a in account_objects[::3]])
        session.execute(insert(StatsState), [
            {"client_account_id": a.id, "refreshed_at": now - timedelta(hours=2),
             "refreshed_through": through,
             "last_error": "Sandbox answered 503." if i == 7 else None}
            for i, a in enumerate(account_objects)])
        session.commit()
        user_id, token, tag_id = user.id, user.session_token, tag.id
        some_client = client_ids[0] if client_ids else None
        some_account = account_ids[0][0] if account_ids else None

    with app.app_context():
        engine = db.engine
        postgres = engine.dialect.name == "postgresql"
        stamp: Any = now if postgres else now.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
        dates = [first + timedelta(days=n) for n in range(days)]
        day_values: list[Any] = dates if postgres else [d.isoformat() for d in dates]

        scales = {account_id: rng.randint(1, 20) for account_id, _ in account_ids}

        def in_order() -> Iterator[tuple[int, str, Any]]:
            # "day": as the daily refresh writes them, every account's row of a day together
            # (the rows of recent days sit together on disk); "account": as a backfill writes
            # one account's months at a time (a month's rows spread over the whole table).
            if order == "day":
                for day in day_values:
                    for account_id, currency in account_ids:
                        yield account_id, currency, day
            else:
                for account_id, currency in account_ids:
                    for day in day_values:
                        yield account_id, currency, day

        def campaign_rows() -> Iterator[tuple]:
            for account_id, _, day in in_order():
                for c in range(campaigns):
                    cost = scales[account_id] * rng.randint(20_000_000, 60_000_000) // (c + 1)
                    conversions = rng.randint(0, 4)
                    yield (account_id, f"c{c}", day, f"Campaign {c:02} of account {account_id}",
                           1000, 40, cost, conversions, conversions * 55_000_000, stamp)

        def account_rows() -> Iterator[tuple]:
            # Not the exact sums of the campaign rows (they are random too): the dashboard reads
            # only these, and writing them from the campaigns would cost a second pass.
            for account_id, currency, day in in_order():
                cost = scales[account_id] * rng.randint(200_000_000, 600_000_000)
                conversions = rng.randint(0, 30)
                yield (account_id, day, user_id, currency, 20_000, 800, cost, conversions,
                       conversions * 55_000_000, stamp)

        with engine.begin() as connection:
            written_accounts = _bulk(
                connection, AccountDay.__table__,
                ["client_account_id", "day", "user_id", "currency", "impressions", "clicks",
                 "cost_micros", "conversions", "conversion_value_micros", "fetched_at"],
                account_rows())
            written_campaigns = _bulk(
                connection, CampaignDay.__table__,
                ["client_account_id", "campaign_id", "day", "campaign_name", "impressions",
                 "clicks", "cost_micros", "conversions", "conversion_value_micros", "fetched_at"],
                campaign_rows())
    return {"user_id": user_id, "token": token, "tag_id": tag_id, "client_id": some_client,
            "account_id": some_account, "account_days": written_accounts,
            "campaign_days": written_campaigns}


def _serve(app: Flask, port_queue: Any) -> None:
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=False)
    port_queue.put(server.server_port)
    server.serve_forever()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--accounts", type=int, default=500)
    parser.add_argument("--days", type=int, default=395, help="13 months")
    parser.add_argument("--campaigns", type=int, default=20, help="per account")
    parser.add_argument("--order", choices=("day", "account"), default="day",
                        help="rows written day by day (daily refresh) or account by account "
                             "(backfill: the worst case for reading recent days)")
    parser.add_argument("--seconds", type=float, default=10.0, help="per measured page")
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
    small = make_agency(app, "small@bench.test", clients=2, accounts=5, days=40, campaigns=3)
    big = make_agency(app, "big@bench.test", clients=args.clients, accounts=args.accounts,
                      days=args.days, campaigns=args.campaigns, order=args.order)
    with app.app_context():
        _settle(db.engine)
        db.engine.dispose()
    built = time.perf_counter() - started
    print(f"built {big['account_days']:,} account days and {big['campaign_days']:,} campaign "
          f"days (+ a 5-account user) in {built:.1f} s", flush=True)

    def pages(user: dict[str, Any]) -> dict[str, str]:
        return {"dashboard": "/",
                "dashboard sorted by pacing, one tag": f"/?sort=-pacing&tag={user['tag_id']}",
                "client page": f"/clients/{user['client_id']}"}

    queries: dict[str, dict[str, int]] = {}
    small_label, big_label = "5 accounts", f"{args.accounts} accounts"
    for name in pages(big):
        queries[name] = {small_label: count_statements(app, small["token"], pages(small)[name]),
                         big_label: count_statements(app, big["token"], pages(big)[name])}
    bare_path = f"/bench/bare/{big['account_id']}"
    for name, path in (("bare endpoint", bare_path), ("empty page in the layout", "/bench/layout")):
        counted = count_statements(app, big["token"], path)
        queries[name] = {small_label: counted, big_label: counted}
    with app.app_context():
        db.engine.dispose()

    context = multiprocessing.get_context("fork")
    ports: Any = context.Queue()
    server = context.Process(target=_serve, args=(app, ports), daemon=True)
    server.start()
    try:
        port = ports.get(timeout=30)
        cookie = session_cookie(app, big["token"])
        targets = {"bare endpoint": bare_path, "empty page in the layout": "/bench/layout",
                   **pages(big)}
        for path in targets.values():
            requests_per_second(port, path, cookie, 0.5)  # warm up
        rounds = 10
        totals = {name: [0.0, 0] for name in targets}
        for _ in range(rounds):
            for name, path in targets.items():
                rps, size = requests_per_second(port, path, cookie, args.seconds / rounds)
                totals[name][0] += rps / rounds
                totals[name][1] = size
    finally:
        server.terminate()
        server.join(timeout=10)

    bare = totals["bare endpoint"][0]
    result = {
        "database": database_url.split(":")[0],
        "clients": args.clients, "accounts": args.accounts, "days": args.days,
        "campaigns_per_account": args.campaigns, "row_order": args.order,
        "account_days": big["account_days"], "campaign_days": big["campaign_days"],
        "build_seconds": round(built, 1),
        "requests_per_second": {name: round(rps, 1) for name, (rps, _) in totals.items()},
        "ratio_to_bare": {name: round(rps / bare, 3) for name, (rps, _) in totals.items()},
        "page_bytes": {name: size for name, (_, size) in totals.items()},
        "sql_statements_per_page": queries,
        "target": "dashboard ≥ 0.25 of the bare endpoint; equal statements at both sizes",
    }
    print(f"{args.clients} clients, {args.accounts} accounts, {args.days} days on "
          f"{result['database']}, rows written in {args.order} order")
    print(f"{'page':38} {'req/s':>8} {'ratio':>7} {'SQL @' + small_label:>16} {'SQL @' + big_label:>18}")
    for name, (rps, _) in totals.items():
        counts = queries[name]
        print(f"{name:38} {rps:8.1f} {rps / bare:7.2f} {counts[small_label]:>16} "
              f"{counts[big_label]:>18}")
    output = Path("bench/output")
    output.mkdir(parents=True, exist_ok=True)
    database = "postgresql" if result["database"].startswith("postgresql") else "sqlite"
    name = f"dashboard-{database}-{args.order}-order.json"
    (output / name).write_text(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
