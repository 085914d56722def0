"""The custom alert rules run for real through the runner on the Sandbox: the store refreshed,
the table of hits, and each hit notified once while it holds, resolved when it stops."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from ppc_robot.lib.message_values import money_text
from ppc_robot.lib.models import Client, JobLevel, Notification, OutputType
from ppc_robot.lib.platforms import RemoteAccount, ReportRequest
from ppc_robot.lib.platforms.sandbox import SandboxClient
from ppc_robot.lib.runner import RunnerSettings
from tests.factories import make_definition, make_job
from tests.lib.test_accounts_overview import read_csv, run_job, sandbox_truth
from tests.support import runs as run_fixtures
from tests.support.runs import KEY, SCHEDULED

factory = run_fixtures.factory
sandbox = run_fixtures.sandbox
YESTERDAY = date(2026, 11, 24)  # the job's day is 25 November in Prague


@pytest.fixture
def settings(tmp_path):
    return RunnerSettings(outputs_dir=tmp_path / "outputs", heartbeat_seconds=0.2,
                          app_config={"PPC_ROBOT_CREDENTIALS_KEY": KEY})


def rules_job(session, user, login, parameters, *, version=2):
    definition = make_definition(session, user, task_type="alert_rules",
                                 output_type=OutputType.CSV, parameters={"rules": []})
    definition.parameters, definition.task_type_version = parameters, version
    job = make_job(session, user, definition=definition, time_zone="Europe/Prague",
                   name="Rules")
    job.level, job.service_account_id, job.all_client_accounts = (
        JobLevel.SERVICE_ACCOUNT, login.id, True)
    session.commit()
    return job


def one_rule(name, level, *conditions, period="yesterday", min_metric="", min_value=None):
    return {"rules": [{"name": name, "level": level, "period": period, "min_metric": min_metric,
                       "min_value": min_value, "conditions": [
                           {"metric": m, "comparison": c, "value": v} for m, c, v in conditions]}]}


def open_hits(session):
    session.expire_all()
    return session.scalars(select(Notification).where(
        Notification.category == 6, Notification.code == 0, Notification.resolved_at.is_(None))
    ).all()


def test_a_hit_is_raised_once_counted_while_it_holds_and_resolved_after(
        session, factory, settings, sandbox):
    user, login, accounts = sandbox
    acme = accounts[0]  # Acme Shoes CZ
    cost, _, value = sandbox_truth(acme, YESTERDAY, YESTERDAY)
    roas = value / cost
    client = Client(user_id=user.id, name="Acme", currency="CZK",
                    target_roas=(roas * 2).quantize(Decimal("0.01")))
    session.add(client)
    session.flush()
    acme.client_id = client.id
    job = rules_job(session, user, login, one_rule("ROAS below target", "account",
                                                   ("roas", "worse_than_target", None)))

    first = run_job(session, factory, settings, job)
    [hit] = open_hits(session)
    second = run_job(session, factory, settings, job, SCHEDULED + timedelta(hours=1))
    [again] = open_hits(session)
    client.target_roas = (roas / 2).quantize(Decimal("0.01"))
    session.commit()
    third = run_job(session, factory, settings, job, SCHEDULED + timedelta(hours=2))

    [row] = read_csv(first.output_file)
    assert row["Rule"] == "ROAS below target" and row["Client account"] == acme.name
    assert Decimal(row["Cost"]) == cost.quantize(Decimal("0.01"))
    shown = f"{roas.quantize(Decimal('0.01'))} yesterday, worse than the target"
    assert shown in row["What matched"]
    target = (roas * 2).quantize(Decimal("0.01"))
    assert hit.message == f"Rule “ROAS below target”: ROAS {shown} {target} — {acme.name}"
    assert hit.client_account_id == acme.id
    assert again.id == hit.id and again.occurrences == 2 and second.rows == 1
    assert open_hits(session) == [] and third.rows == 0
    assert session.get(Notification, hit.id).resolved_at is not None


def test_campaign_rules_hit_every_campaign_over_the_threshold_across_accounts(
        session, factory, settings, sandbox):
    user, login, accounts = sandbox
    costs = {}
    for account in accounts:
        remote = RemoteAccount(account.external_id, account.name, account.currency,
                               account.time_zone)
        for row in SandboxClient().fetch_report(
                ReportRequest(remote, YESTERDAY, YESTERDAY, ("date", "campaign"))):
            key = f"{account.name} / {row.campaign}"
            costs[key] = costs.get(key, Decimal(0)) + row.cost
    threshold = sorted(costs.values())[len(costs) // 2]
    job = rules_job(session, user, login, one_rule("Big spenders", "campaign",
                                                   ("cost", "gt", str(threshold))))

    run = run_job(session, factory, settings, job)

    rows = read_csv(run.output_file)
    expected = sorted(k for k, v in costs.items() if v > threshold)
    assert sorted(f"{r['Client account']} / {r['Campaign']}" for r in rows) == expected
    assert len(open_hits(session)) == len(expected) == run.rows
    messages = sorted(n.message for n in open_hits(session))
    assert all(any(m.endswith(f"yesterday > {money_text(threshold, a.currency, 'en')} — {key}")
                   for m in messages for a in accounts if key.startswith(a.name + " /"))
               for key in expected)


def test_rules_saved_by_version_1_keep_working(session, factory, settings, sandbox):
    user, login, accounts = sandbox
    job = rules_job(session, user, login, {
        "rule_name": "Any spend", "level": "account", "period": "last_7_days", "metric": "cost",
        "operator": ">", "threshold": "0", "min_clicks": 1}, version=1)

    run = run_job(session, factory, settings, job)

    rows = read_csv(run.output_file)
    assert sorted(r["Client account"] for r in rows) == sorted(a.name for a in accounts)
    assert {r["Rule"] for r in rows} == {"Any spend"}
    assert {r["Period"] for r in rows} == {"2026-11-18 – 2026-11-24"}


def test_the_demo_has_a_rules_job_that_hits_the_clients_missing_their_targets(
        session, factory, settings):
    from ppc_robot.lib.demo import seed_demo, set_demo_goals
    from ppc_robot.lib.models import Job

    demo = seed_demo(session)
    now = datetime(2026, 11, 16, 5, 30, tzinfo=UTC)  # the job's day: 16 November
    set_demo_goals(session, demo.user, now)  # targets beside the last 7 days' figures
    session.commit()
    [job] = session.scalars(select(Job).where(Job.user_id == demo.user.id,
                                              Job.name.contains("alert rules"))).all()
    assert job.definition.task_type == "alert_rules"

    run = run_job(session, factory, settings, job, now)

    hits = sorted(n.message for n in open_hits(session))
    assert len(hits) == run.rows == 2
    assert hits[0].startswith("Rule “PNO above the client's target”: PNO ")
    assert hits[0].endswith(" — Bike Rental Vienna")
    assert hits[1].startswith("Rule “ROAS below the client's target”: ROAS ")
    assert hits[1].endswith(" — Garden Centre Brno")


def test_stored_rules_on_an_unknown_metric_fail_the_run_with_the_reason(
        session, factory, settings, sandbox):
    from ppc_robot.lib.models import JobRun, RunStatus
    from ppc_robot.lib.runner import execute_run

    user, login, _ = sandbox
    job = rules_job(session, user, login, one_rule("Odd", "account", ("bounce_rate", "gt", "1")))
    run = JobRun(user_id=user.id, job_id=job.id, scheduled_at=SCHEDULED)
    session.add(run)
    session.commit()

    execute_run(factory, run.id, settings)

    session.expire_all()
    run = session.get(JobRun, run.id)
    assert run.status == RunStatus.FAILED
    assert "There is no metric “bounce_rate”; choose one from the list." in run.error_message


def test_a_hit_on_an_account_the_run_could_not_read_stays_open(session, factory, settings,
                                                               sandbox):
    from ppc_robot.lib.models import ClientAccountStatus, JobRun, RunStatus
    from ppc_robot.lib.runner import execute_run

    user, login, accounts = sandbox
    job = rules_job(session, user, login, one_rule("Any spend", "account", ("cost", "gt", "0")))
    job.level, job.all_client_accounts = JobLevel.CLIENT_ACCOUNT, False
    job.client_accounts = accounts[:2]
    session.commit()
    run_job(session, factory, settings, job)
    assert len(open_hits(session)) == 2
    accounts[0].status = ClientAccountStatus.REMOVED
    session.commit()

    second = JobRun(user_id=user.id, job_id=job.id, scheduled_at=SCHEDULED + timedelta(hours=1))
    session.add(second)
    session.commit()

    execute_run(factory, second.id, settings)

    session.expire_all()
    second = session.get(JobRun, second.id)
    assert second.status == RunStatus.PARTIAL and second.rows == 1
    assert sorted(n.client_account_id for n in open_hits(session)) == sorted(
        a.id for a in accounts[:2])
