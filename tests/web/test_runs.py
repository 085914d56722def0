"""Run now, the run page with progress and preview, downloads."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from sqlalchemy import select

from ppc_robot.lib.models import ClientAccountStatus, JobRun, OutputType, RunStatus, RunTrigger
from ppc_robot.lib.reports.performance import default_parameters
from ppc_robot.lib.runner import execute_run
from ppc_robot.lib.runs import preview_path
from ppc_robot.web.queue import runner_settings
from tests.conftest import csrf_token_from
from tests.factories import make_definition, make_job
from tests.support import runs as run_fixtures
from tests.support.runs import KEY

factory = run_fixtures.factory
sandbox = run_fixtures.sandbox


def start(client, job):
    token = csrf_token_from(client.get(f"/jobs/{job.id}").text)
    return client.post(f"/runs/job/{job.id}", data={"csrf_token": token})


def run_by_the_worker(app, client, session, factory, job):
    """Start the job from its page and run it as the worker does; the run."""
    app.config["PPC_ROBOT_CREDENTIALS_KEY"] = KEY
    start(client, job)
    run = session.scalar(select(JobRun).where(JobRun.job_id == job.id))
    execute_run(factory, run.id, runner_settings(app))
    return run


def sandbox_job(session, user, accounts, output=OutputType.XLSX):
    definition = make_definition(session, user, version=2, output_type=output, parameters=default_parameters()
                                 | {"dimensions": ["date"], "metrics": ["clicks", "cost"], "date_range": "last_7_days"})
    job = make_job(session, user, definition=definition, name="Acme daily")
    job.client_accounts = [a for a in accounts if a.currency == accounts[0].currency][:2]
    session.commit()
    return job


def test_run_now_queues_a_run_and_its_page_shows_the_preview_and_download(app, client, login, session, factory, sandbox):
    user, _, accounts = sandbox
    job = sandbox_job(session, user, accounts)
    login(user)
    app.config["PPC_ROBOT_CREDENTIALS_KEY"] = KEY

    response = start(client, job)

    run = session.scalar(select(JobRun).where(JobRun.job_id == job.id))
    assert response.status_code == 302 and response.headers["Location"] == f"/runs/{run.id}"
    assert run.status == RunStatus.QUEUED
    waiting = client.get(f"/runs/{run.id}")
    assert "accounts" in waiting.text and 'id="run-progress"' in waiting.text
    assert client.get(f"/runs/{run.id}/status").json == {
        "status": "queued", "done": 0, "total": 0, "finished": False, "partial": False, "error": None,
        "next_attempt_at": None}

    execute_run(factory, run.id, runner_settings(app))  # what the worker does with the queued id
    page = client.get(f"/runs/{run.id}")
    download = client.get(f"/runs/{run.id}/download")

    assert "First rows" in page.text and "Download the output" in page.text
    chart = json.loads(re.search(r'<script type="application/json" id="run-chart-data">(.*?)</script>',
                                 page.text, re.S).group(1))
    currency = job.client_accounts[0].currency
    assert chart["titles"] == {"x": "Day", "y": f"Cost ({currency})", "y2": "Clicks"}
    assert len(chart["labels"]) == 7 and [s["axis"] for s in chart["series"]] == ["y", "y2"]
    assert page.text.count("<tr>") == 8  # header + 7 days
    footer = re.search(r"<tfoot>(.*?)</tfoot>", page.text, re.S)
    assert footer and "<td>Total</td>" in footer.group(1)  # the totals row under the preview
    assert download.status_code == 200
    assert re.search(r'attachment; filename="?Acme daily \d{4}-\d\d-\d\d\.xlsx', download.headers["Content-Disposition"])
    assert download.data[:2] == b"PK"


def test_run_now_is_refused_while_a_run_is_waiting(client, login, session, sandbox):
    user, _, accounts = sandbox
    job = sandbox_job(session, user, accounts)
    login(user)
    start(client, job)

    again = start(client, job)

    assert again.headers["Location"] == f"/jobs/{job.id}"
    assert "already waiting or running" in client.get(f"/jobs/{job.id}").text
    assert len(session.scalars(select(JobRun).where(JobRun.job_id == job.id)).all()) == 1


def test_another_users_run_and_its_file_are_404(app, client, login, session, factory, sandbox, other_user):
    user, _, accounts = sandbox
    job = sandbox_job(session, user, accounts, output=OutputType.CSV)
    run = JobRun(user_id=user.id, job_id=job.id, scheduled_at=job.created_at)
    session.add(run)
    session.commit()
    app.config["PPC_ROBOT_CREDENTIALS_KEY"] = KEY
    execute_run(factory, run.id, runner_settings(app))
    login(other_user)

    for url in (f"/runs/{run.id}", f"/runs/{run.id}/status", f"/runs/{run.id}/download"):
        assert client.get(url).status_code == 404


def partial_run(app, session, factory, sandbox):
    """A finished run that left a client account out (it vanished from the platform)."""
    user, _, accounts = sandbox
    job = sandbox_job(session, user, accounts, output=OutputType.CSV)
    gone = job.client_accounts[1]
    gone.status = ClientAccountStatus.REMOVED
    run = JobRun(user_id=user.id, job_id=job.id, scheduled_at=job.created_at)
    session.add(run)
    session.commit()
    app.config["PPC_ROBOT_CREDENTIALS_KEY"] = KEY
    execute_run(factory, run.id, runner_settings(app))
    session.expire_all()
    return user, job, session.get(JobRun, run.id), gone


def test_a_partial_run_is_shown_as_partial_wherever_runs_are_shown(app, client, login, session, factory, sandbox):
    user, job, run, gone = partial_run(app, session, factory, sandbox)
    login(user)

    state = client.get(f"/runs/{run.id}/status").json
    run_page = client.get(f"/runs/{run.id}").text
    job_page = client.get(f"/jobs/{job.id}").text
    folder_page = client.get(f"/folders/{job.folder_id}").text
    dashboard = client.get("/").text

    assert run.status == RunStatus.PARTIAL
    assert state["status"] == "partial" and state["finished"] is True and state["partial"] is True
    assert gone.name in state["error"]
    assert 'badge text-bg-warning">partial' in run_page
    assert f"left out of this report: {gone.name}" in run_page
    assert job_page.count('badge text-bg-warning">partial') == 2  # last run, and the history
    assert 'text-bg-warning">partial' in folder_page
    assert "Failing or incomplete" in dashboard and job.name in dashboard.split("Failing or incomplete")[1]
    assert 'text-bg-success">succeeded' not in run_page + job_page + folder_page


def test_a_run_waiting_for_a_quota_window_says_when_it_tries_again(client, login, session, sandbox):
    user, _, accounts = sandbox
    job = sandbox_job(session, user, accounts)
    run = JobRun(user_id=user.id, job_id=job.id, scheduled_at=job.created_at, attempt=0,
                 next_attempt_at=datetime(2099, 11, 25, 23, 50, tzinfo=UTC),
                 error_message="Sklik quota exhausted, next attempt at 2099-11-25 23:50 UTC.", error_class="quota")
    session.add(run)
    session.commit()
    login(user)

    page = client.get(f"/runs/{run.id}").text
    history = client.get(f"/jobs/{job.id}").text
    state = client.get(f"/runs/{run.id}/status").json

    assert "Waiting for the platform's quota: next attempt at" in page
    assert "Next attempt at" in history
    assert state["next_attempt_at"] == "2099-11-25T23:50:00+00:00" and state["finished"] is False


def preview_cells(page):
    table = re.search(r'<table class="table table-sm table-striped run-preview">(.*?)</table>',
                      page, re.S).group(1)
    return [re.findall(r"<td>([^<]*)</td>", row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)]


def test_the_preview_writes_its_numbers_in_the_viewers_locale(app, client, login, session, factory,
                                                              sandbox):
    user, _, accounts = sandbox
    job = sandbox_job(session, user, accounts)
    run = JobRun(user_id=user.id, job_id=job.id, scheduled_at=datetime.now(UTC))
    session.add(run)
    session.commit()
    app.config["PPC_ROBOT_CREDENTIALS_KEY"] = KEY
    execute_run(factory, run.id, runner_settings(app))
    login(user)

    english = preview_cells(client.get(f"/runs/{run.id}").text)
    user.locale = "cs"
    session.commit()
    czech = preview_cells(client.get(f"/runs/{run.id}").text)

    currency = job.client_accounts[0].currency
    # header row has no <td>; then the days, then the totals row: date, clicks, cost
    day, total = english[1], english[-1]
    assert re.fullmatch(r"[\d,]+", day[1]) and day[2].startswith(currency + "\xa0")
    assert re.fullmatch(r"[A-Z]{3}\xa0[\d,]+\.\d\d", total[2])
    czech_cost = czech[-1][2]
    assert re.fullmatch(r"[\d\xa0]+,\d\d\xa0\S+", czech_cost)  # "49 613,43 Kč"
    assert re.sub(r"\D", "", czech_cost) == re.sub(r"\D", "", total[2])  # the same amount
    assert czech[-1][1].replace("\xa0", "") == english[-1][1].replace(",", "")  # same clicks
    assert czech[-1][0] == "Celkem" and total[0] == "Total"
    czech_page = client.get(f"/runs/{run.id}").text
    chart = json.loads(re.search(r'<script type="application/json" id="run-chart-data">(.*?)</script>',
                                 czech_page, re.S).group(1))
    assert chart["titles"] == {"x": "Den", "y": f"Náklady ({currency})", "y2": "Prokliky"}
    assert "<th>Náklady</th>" in czech_page and "<th>Datum</th>" in czech_page


def test_a_preview_saved_before_its_values_were_kept_shows_its_text(app, client, login, session,
                                                                    factory, sandbox):
    user, _, accounts = sandbox
    job = sandbox_job(session, user, accounts)
    run = JobRun(user_id=user.id, job_id=job.id, scheduled_at=datetime.now(UTC),
                 status=RunStatus.SUCCEEDED, finished_at=datetime.now(UTC))
    session.add(run)
    session.commit()
    path = preview_path(runner_settings(app).outputs_dir, run)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({  # the format written before the values were kept
        "header": ["Date", "Clicks", "Cost"], "rows": [["2026-11-24", "1\u202f204", "14\u202f255.96 CZK"]],
        "totals": [["Total", "1\u202f204", "14\u202f255.96 CZK"]], "chart_labels": [],
        "chart_values": [], "chart_label": "Clicks", "chart": None}), encoding="utf-8")
    user.locale = "cs"
    session.commit()
    login(user)

    cells = preview_cells(client.get(f"/runs/{run.id}").text)

    assert cells[1:] == [["2026-11-24", "1\u202f204", "14\u202f255.96 CZK"],
                         ["Total", "1\u202f204", "14\u202f255.96 CZK"]]


def test_a_czech_reader_sees_a_stored_failure_in_czech_and_an_unknown_one_as_stored(
        client, login, session, workspace):
    failed = JobRun(user_id=workspace.user.id, job_id=workspace.job.id, scheduled_at=datetime.now(UTC),
                    status=RunStatus.FAILED, finished_at=datetime.now(UTC),
                    error_message="The Google spreadsheet “abc123” does not exist or is not shared "
                                  "with the Google login “Agency”.")
    old = JobRun(user_id=workspace.user.id, job_id=workspace.job.id, scheduled_at=datetime.now(UTC),
                 status=RunStatus.FAILED, finished_at=datetime.now(UTC),
                 error_message="Sklik answered 502 Bad Gateway.")
    session.add_all([failed, old])
    workspace.user.locale = "cs"
    session.commit()
    login(workspace.user)

    page = client.get(f"/runs/{failed.id}").text
    english = client.get(f"/runs/{old.id}").text

    assert ("Tabulka Google „abc123“ neexistuje, nebo není sdílená s přihlášením Google „Agency“."
            in page)
    assert "Sklik answered 502 Bad Gateway." in english


def test_what_started_a_run_is_said_in_words_in_the_readers_language(
        client, login, session, workspace):
    runs = {trigger: JobRun(user_id=workspace.user.id, job_id=workspace.job.id,
                            scheduled_at=datetime.now(UTC), status=RunStatus.SUCCEEDED,
                            finished_at=datetime.now(UTC), trigger=trigger)
            for trigger in RunTrigger}
    session.add_all(runs.values())
    session.commit()
    login(workspace.user)

    english = {trigger: client.get(f"/runs/{run.id}").text for trigger, run in runs.items()}
    history = client.get(f"/jobs/{workspace.job.id}").text
    workspace.user.locale = "cs"
    session.commit()
    czech = client.get(f"/runs/{runs[RunTrigger.CATCH_UP].id}").text

    assert "(started by hand)" in english[RunTrigger.MANUAL]
    assert "(on schedule)" in english[RunTrigger.SCHEDULE]
    assert "(catching up a missed run)" in english[RunTrigger.CATCH_UP]
    assert "catch_up" not in history and "catching up a missed run" in history
    assert "(dohání zmeškaný běh)" in czech


def test_a_czech_reader_reads_the_run_log_in_czech(app, client, login, session, factory, sandbox):
    user, _, accounts = sandbox
    job = sandbox_job(session, user, accounts)
    login(user)
    run = run_by_the_worker(app, client, session, factory, job)
    english = client.get(f"/runs/{run.id}").text
    session.rollback()  # a snapshot older than the run's writes cannot write on SQLite
    user.locale = "cs"
    session.commit()

    czech = client.get(f"/runs/{run.id}").text
    log = re.search(r'<pre class="bg-light p-3 run-log">(.*?)</pre>', czech, re.S).group(1)

    assert "attempt 1 started" in english and "7 rows written" in english
    lines = log.strip().split("\n")
    assert all(re.match(r"\d\d:\d\d:\d\d ", line) for line in lines)
    assert lines[0].endswith(" pokus 1 zahájen")
    assert f"{job.client_accounts[0].name}: řádků: 7" in log
    assert lines[-1].endswith(" zapsáno řádků: 7")
    assert "rows" not in log
