"""Anomaly detection in the web: the editor's parameters, an anomaly's page with its chart,
"run again" on numbers that moved, and the job page marking the runs whose numbers moved."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select

from ppc_robot.lib.alerts.restatements import Moved, note_moved_numbers, record_coverage
from ppc_robot.lib.models import Job, JobRun, Notification, RunStatus
from ppc_robot.lib.notifications import emit


def anomalies_data(workspace, **params):
    return {"name": "Anomalies", "folder_id": workspace.folder.id,
            "task_type": "anomalies", "definition_id": 0, "output_type": "csv",
            "output_path": "{job} {date}", "client_account_ids": [workspace.client_account.id],
            "schedule_kind": "manual", "time_zone": "UTC",
            **{f"params-{k}": v for k, v in params.items()}}


def test_a_sensitivity_out_of_range_is_refused_beside_its_field(client, login, submit, session,
                                                                workspace):
    login(workspace.user)
    url = f"/jobs/new/{workspace.folder.id}?type=anomalies"

    refused = submit(url, anomalies_data(workspace, weeks="8", sensitivity="0.2",
                                         min_volume="10"))
    saved = submit(url, anomalies_data(workspace, weeks="12", sensitivity="2.5",
                                       min_volume="20", notifications="y"))

    assert refused.status_code == 422 and "Give a sensitivity from 1 to 10" in refused.text
    assert 'value="0.2"' in refused.text
    assert saved.status_code == 302
    job = session.scalar(select(Job).where(Job.name == "Anomalies"))
    assert job.definition.parameters == {"weeks": 12, "sensitivity": "2.5", "min_volume": 20,
                                         "notifications": True}


def test_an_anomaly_page_draws_its_chart_from_a_json_block(client, login, session, workspace):
    notification = emit(session, workspace.user.id, "performance_anomaly",
                        client_account_id=workspace.client_account.id, entity_id="42:cost",
                        params={"metric": "Cost", "entity": "Acme / Brand", "day": "2026-11-24",
                                "actual": "3,000.00 CZK", "expected": "1,020.00 CZK",
                                "low": "900.00 CZK", "high": "1,140.00 CZK", "unit": "CZK",
                                "reason": "above"},
                        details=[{"Day": "2026-11-17", "Value": "1020", "Compared as": "same weekday"},
                                 {"Day": "2026-11-24", "Value": "3000", "Compared as": "yesterday"}])
    session.commit()
    login(workspace.user)

    page = client.get(f"/notifications/{notification.id}")

    assert page.status_code == 200
    assert 'data-chart="anomaly-chart"' in page.text and "js/charts.js" in page.text
    block = re.search(r'<script type="application/json" id="anomaly-chart">(.*?)</script>',
                      page.text, re.S)
    spec = json.loads(block.group(1))
    assert spec["labels"] == ["2026-11-17", "2026-11-24"] and spec["unit"] == "CZK"
    assert spec["series"][1]["values"] == ["1020.00", "1020.00"]


def test_numbers_moved_offers_run_again_and_the_job_page_marks_the_run(
        client, login, session, workspace):
    job = workspace.job
    run = JobRun(user_id=job.user_id, job_id=job.id, status=RunStatus.SUCCEEDED,
                 scheduled_at=datetime(2026, 11, 25, 6, tzinfo=UTC),
                 finished_at=datetime(2026, 11, 25, 6, 1, tzinfo=UTC))
    session.add(run)
    session.flush()
    record_coverage(session, run.id, job.id, job.user_id,
                    [(workspace.client_account.id, date(2026, 11, 24), date(2026, 11, 24))],
                    datetime(2026, 11, 25, 6, 1, tzinfo=UTC))
    session.commit()
    note_moved_numbers(session, workspace.client_account.id, "CZK",
                       [Moved(date(2026, 11, 24), "conversions", Decimal(10), Decimal(14))],
                       datetime(2026, 11, 26, 5, tzinfo=UTC))
    session.commit()
    login(workspace.user)
    notification = session.scalar(select(Notification).where(Notification.code == 1,
                                                              Notification.category == 7))

    page = client.get(f"/notifications/{notification.id}")
    job_page = client.get(f"/jobs/{job.id}")

    assert "conversions on 2026-11-24 10 → 14" in page.text
    assert f'action="/runs/job/{job.id}"' in page.text and "Run again" in page.text
    assert "numbers moved" in job_page.text


def test_a_czech_reader_gets_the_anomaly_and_moved_numbers_in_czech(client, login, session,
                                                                    workspace):
    workspace.user.locale = "cs"
    job = workspace.job
    run = JobRun(user_id=job.user_id, job_id=job.id, status=RunStatus.SUCCEEDED,
                 scheduled_at=datetime(2026, 11, 25, 6, tzinfo=UTC),
                 finished_at=datetime(2026, 11, 25, 6, 1, tzinfo=UTC))
    session.add(run)
    session.flush()
    record_coverage(session, run.id, job.id, job.user_id,
                    [(workspace.client_account.id, date(2026, 11, 24), date(2026, 11, 24))],
                    datetime(2026, 11, 25, 6, 1, tzinfo=UTC))
    session.commit()
    note_moved_numbers(session, workspace.client_account.id, "CZK",
                       [Moved(date(2026, 11, 24), "conversions", Decimal(10), Decimal(14))],
                       datetime(2026, 11, 26, 5, tzinfo=UTC))
    anomaly = emit(session, workspace.user.id, "performance_anomaly",
                   client_account_id=workspace.client_account.id, entity_id="42:cost",
                   params={"metric": "Cost", "entity": "Acme / Brand", "day": "2026-11-24",
                           "actual": "3,000.00 CZK", "expected": "1,020.00 CZK",
                           "low": "900.00 CZK", "high": "1,140.00 CZK", "unit": "CZK",
                           "reason": "above"},
                   details=[{"Day": "2026-11-24", "Value": "3000", "Compared as": "yesterday"}])
    session.commit()
    login(workspace.user)
    moved = session.scalar(select(Notification).where(Notification.code == 1,
                                                       Notification.category == 7))

    moved_page = client.get(f"/notifications/{moved.id}").text
    anomaly_page = client.get(f"/notifications/{anomaly.id}").text
    job_page = client.get(f"/jobs/{job.id}").text

    assert "Čísla se po doručení změnila" in moved_page and "Spustit znovu" in moved_page
    assert "Anomálie výkonu" in anomaly_page and "Porovnávané týdny" in anomaly_page
    assert "Náklady ve stejný den v týdnu za poslední týdny a včera" in anomaly_page
    assert "Náklady u Acme / Brand dne 2026-11-24" in anomaly_page  # the metric in the message
    assert "konverze dne 2026-11-24 10 → 14" in moved_page
    assert "čísla se změnila" in job_page and "numbers moved" not in job_page
