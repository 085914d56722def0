"""Delivery by e-mail in the app: the recipients in the job editor, the run page's list with its
revocable links, and the public page behind a link."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from ppc_robot.lib.db import make_session_factory
from ppc_robot.lib.models import DeliveryStatus, Job, OutputDelivery, utcnow
from ppc_robot.lib.output_delivery import LINK_PATH, deliver_outputs, plan_output_deliveries
from ppc_robot.web.logs import redact_tokens
from ppc_robot.web.queue import runner_settings
from tests.conftest import csrf_token_from
from tests.support.output_mail import finished_run, output_config
from tests.web.test_jobs import beside, editor_data, fresh

CONTENT = b"PK\x03\x04 the workbook " * 50


def test_the_editor_saves_the_recipients(client, login, submit, session, workspace):
    login(workspace.user)

    response = submit(f"/jobs/{workspace.job.id}/edit", editor_data(
        workspace, email_output="y", email_recipients="client@example.test;\nboss@example.test"))

    assert response.status_code == 302
    fresh(session)
    job = session.get(Job, workspace.job.id)
    assert job.email_recipients == ["client@example.test", "boss@example.test"]


def test_an_empty_list_sends_to_the_owner_and_unticking_stops_the_mails(client, login, submit,
                                                                        session, workspace):
    login(workspace.user)
    url = f"/jobs/{workspace.job.id}/edit"

    submit(url, editor_data(workspace, email_output="y", email_recipients=""))
    fresh(session)
    owner_only = list(session.get(Job, workspace.job.id).email_recipients)
    submit(url, editor_data(workspace, email_recipients="client@example.test"))
    fresh(session)

    assert owner_only == [workspace.user.email]
    assert session.get(Job, workspace.job.id).email_recipients == []


@pytest.mark.parametrize(("typed", "message"), [
    ("client@example.test, nobody", "“nobody” is not an e-mail address"),
    (",".join(f"r{n}@example.test" for n in range(21)), "At most 20 recipients; this list has 21."),
])
def test_bad_recipients_are_explained_beside_the_field(client, login, submit, session, workspace,
                                                      typed, message):
    login(workspace.user)

    response = submit(f"/jobs/{workspace.job.id}/edit",
                      editor_data(workspace, email_output="y", email_recipients=typed))

    assert response.status_code == 422
    assert message in beside(response.text, "email_recipients")
    assert typed.split(",")[0] in response.text  # what was typed is kept
    fresh(session)
    assert session.get(Job, workspace.job.id).email_recipients == []


@pytest.fixture
def mailed(app, engine, session, workspace, smtp_server):
    """The workspace's job mailed to a client: a run with a file, and how to deliver it."""
    outputs = runner_settings(app).outputs_dir
    job = workspace.job
    job.email_recipients = ["client@example.test"]
    run = finished_run(session, workspace.user, job, outputs, content=CONTENT)
    plan_output_deliveries(session, run, job)
    session.commit()
    factory = make_session_factory(engine)

    def deliver(*, now=None, **overrides):
        overrides.setdefault("attach_max_bytes", 100)  # tiny: the file goes as a link
        config = output_config(smtp_server.port, outputs, link_secret=app.config["SECRET_KEY"],
                               **overrides)
        return deliver_outputs(factory, config, now=now)

    return run, deliver


def link_path(smtp_server):
    text = smtp_server.messages[-1].get_body(preferencelist=("plain",)).get_content()
    return LINK_PATH + text.split(LINK_PATH, 1)[1].split()[0]


def test_the_link_serves_the_file_without_logging_in(client, mailed, smtp_server):
    run, deliver = mailed
    deliver()

    response = client.get(link_path(smtp_server))

    assert response.status_code == 200
    assert response.data == CONTENT
    assert 'filename=report.xlsx' in response.headers["Content-Disposition"]
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_an_expired_link_says_so(client, session, mailed, smtp_server):
    run, deliver = mailed
    week_ago = utcnow() - timedelta(days=7, seconds=1)
    session.execute(update(OutputDelivery).where(OutputDelivery.run_id == run.id)
                    .values(next_attempt_at=week_ago))
    session.commit()
    deliver(now=week_ago)  # the worker sent it a week ago: the link lived 7 days

    response = client.get(link_path(smtp_server))

    assert response.status_code == 410
    assert "This link has expired; ask the sender for the report again." in response.text
    assert CONTENT not in response.data


def test_a_wrong_token_is_404(client, mailed, smtp_server):
    _run, deliver = mailed
    deliver()
    path = link_path(smtp_server)

    tampered = client.get(path[:-3] + ("xyz" if not path.endswith("xyz") else "abc"))
    made_up = client.get(LINK_PATH + "not-a-token")

    assert (tampered.status_code, made_up.status_code) == (404, 404)


def test_the_run_page_lists_the_mails_and_withdraws_a_link(client, login, session, workspace,
                                                          mailed, smtp_server):
    run, deliver = mailed
    deliver()
    path = link_path(smtp_server)
    login(workspace.user)

    page = client.get(f"/runs/{run.id}")
    revoked = client.post(f"/runs/mail/{workspace_delivery(session, run).id}/revoke",
                          data={"csrf_token": csrf_token_from(page.text)}, follow_redirects=True)
    client.get("/logout")
    opened = client.get(path)

    assert "client@example.test" in page.text and "A download link" in page.text
    assert "Withdraw the link" in page.text
    assert "no longer works" in revoked.text and "withdrawn" in revoked.text
    assert "Withdraw the link" not in revoked.text
    assert opened.status_code == 410
    assert "The sender withdrew this link" in opened.text


def test_the_run_page_shows_why_a_mail_was_given_up(client, login, session, workspace, mailed,
                                                   smtp_server):
    run, deliver = mailed
    smtp_server.fail_next("550 Mailbox unavailable")
    deliver()
    login(workspace.user)

    page = client.get(f"/runs/{run.id}")

    assert workspace_delivery(session, run).status == DeliveryStatus.GIVEN_UP
    assert "Not sent" in page.text
    assert "Given up after 1 try: the SMTP server answered 550" in page.text


def test_a_czech_reader_sees_why_a_mail_was_given_up_in_czech(client, login, session, workspace,
                                                             mailed, smtp_server):
    run, deliver = mailed
    smtp_server.fail_next("550 Mailbox unavailable")
    deliver()
    workspace.user.locale = "cs"
    session.commit()
    login(workspace.user)

    page = client.get(f"/runs/{run.id}")

    assert workspace_delivery(session, run).last_error == \
        "Given up after 1 try: the SMTP server answered 550"  # stored in English
    assert "Vzdáno po 1 pokusu: server SMTP odpověděl 550" in page.text


def test_another_users_link_cannot_be_withdrawn(client, login, session, other_workspace, mailed,
                                                smtp_server):
    run, deliver = mailed
    deliver()
    login(other_workspace.user)
    page = client.get("/")

    response = client.post(f"/runs/mail/{workspace_delivery(session, run).id}/revoke",
                           data={"csrf_token": csrf_token_from(page.text)})

    assert response.status_code == 404
    assert workspace_delivery(session, run).link_revoked_at is None


def workspace_delivery(session, run):
    fresh(session)
    return session.scalars(select(OutputDelivery).where(OutputDelivery.run_id == run.id,
                                                        OutputDelivery.recipient == "client@example.test")).one()


def test_the_link_token_is_cut_out_of_log_lines(mailed, smtp_server):
    _run, deliver = mailed
    deliver()
    path = link_path(smtp_server)
    token = path.rsplit("/", 1)[1]

    line = redact_tokens(f'127.0.0.1 - - "GET {path}?utm=mail HTTP/1.1" 200 - "https://mail.example{path}"')

    assert token not in line
    assert line.count(f"{LINK_PATH}[redacted]") == 2


def test_a_czech_owner_reads_the_mails_and_withdraws_a_link_in_czech(client, login, session,
                                                                     workspace, mailed, smtp_server):
    run, deliver = mailed
    workspace.user.locale = "cs"
    session.commit()
    deliver()
    path = link_path(smtp_server)
    login(workspace.user)

    page = client.get(f"/runs/{run.id}")
    revoked = client.post(f"/runs/mail/{workspace_delivery(session, run).id}/revoke",
                          data={"csrf_token": csrf_token_from(page.text)}, follow_redirects=True)
    client.get("/logout")
    opened = client.get(path, headers={"Accept-Language": "cs"})

    assert "Odesláno e-mailem" in page.text and "Odkaz ke stažení," in page.text
    assert "Zrušit odkaz" in page.text and "Withdraw" not in page.text
    assert "Odkaz ke stažení poslaný na client@example.test už nefunguje." in revoked.text
    assert "zrušen " in revoked.text
    assert opened.status_code == 410
    assert "Odesílatel tento odkaz zrušil" in opened.text
    assert "Tento odkaz ke stažení už nefunguje" in opened.text


def test_bad_recipients_are_explained_in_czech(client, login, submit, session, workspace):
    workspace.user.locale = "cs"
    session.commit()
    login(workspace.user)

    typed = ",".join(f"r{n}@example.test" for n in range(21))
    response = submit(f"/jobs/{workspace.job.id}/edit",
                      editor_data(workspace, email_output="y", email_recipients=typed))

    assert response.status_code == 422
    assert "Nejvýše 20 příjemců; tento seznam jich má 21." in beside(response.text,
                                                                      "email_recipients")
