"""E-mailing finished outputs through the real loopback SMTP server: attached or linked, once per
run and recipient across retries and a killed worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from ppc_robot.lib.models import DeliveryStatus, JobRun, OutputDelivery, RunStatus, utcnow
from ppc_robot.lib.output_delivery import (
    LINK_PATH,
    LinkError,
    LinkExpired,
    LinkRevoked,
    RecipientsError,
    deliver_outputs,
    open_link,
    parse_recipients,
    plan_output_deliveries,
    revoke_link,
)
from ppc_robot.lib.runner import RunnerSettings, execute_run
from tests.factories import make_definition, make_job, make_user
from tests.support.output_mail import SECRET, HoldingSmtpServer, finished_run, output_config

ROOT = Path(__file__).resolve().parents[2]
CONTENT = b"PK\x03\x04 a small workbook " * 20


@pytest.fixture
def outputs(tmp_path):
    return tmp_path / "outputs"


@pytest.fixture
def owner(session):
    user = make_user(session, email="owner@example.test")
    session.commit()
    return user


def job_mailing(session, owner, *recipients):
    job = make_job(session, owner, email_recipients=list(recipients) or [owner.email])
    session.commit()
    return job


def planned_run(session, owner, job, outputs, content=CONTENT):
    run = finished_run(session, owner, job, outputs, content=content)
    plan_output_deliveries(session, run, job)
    session.commit()
    return run


def stored(session, run):
    session.commit()
    session.expire_all()
    return session.scalars(select(OutputDelivery).where(OutputDelivery.run_id == run.id)
                           .order_by(OutputDelivery.recipient)).all()


def link_in(message):
    text = message.get_body(preferencelist=("plain",)).get_content()
    start = text.index("https://robot.example.test" + LINK_PATH)
    return text[start:].split()[0]


@pytest.mark.parametrize(("typed", "expected"), [
    ("a@example.test", ["a@example.test"]),
    ("a@example.test, b@example.test;\nA@example.test", ["a@example.test", "b@example.test"]),
    ("  ", []),
])
def test_recipients_are_read_from_a_list(typed, expected):
    assert parse_recipients(typed) == expected


@pytest.mark.parametrize(("typed", "message"), [
    ("a@example.test, not-an-address", "“not-an-address” is not an e-mail address"),
    ("a@example.test\nBcc: x@evil.test", "is not an e-mail address"),
    (",".join(f"r{n}@example.test" for n in range(21)), "At most 20 recipients"),
])
def test_bad_recipients_are_refused_with_the_reason(typed, message):
    with pytest.raises(RecipientsError, match=message):
        parse_recipients(typed)


def test_a_finished_run_plans_one_mail_per_recipient_and_a_second_execution_adds_none(
        session, session_factory, owner, outputs):
    import tests.support.tasktypes  # noqa: F401 - registers "sleepy"

    definition = make_definition(session, owner, task_type="sleepy", parameters={"seconds": 0})
    job = make_job(session, owner, definition=definition,
                   email_recipients=["client@example.test", owner.email])
    run = JobRun(user_id=owner.id, job_id=job.id, scheduled_at=utcnow())
    session.add(run)
    session.commit()
    settings = RunnerSettings(outputs_dir=outputs)

    assert execute_run(session_factory, run.id, settings) == "succeeded"
    assert execute_run(session_factory, run.id, settings) == "not claimed"

    assert [d.recipient for d in stored(session, run)] == ["client@example.test", owner.email]
    assert all(d.status == DeliveryStatus.PENDING for d in stored(session, run))


def test_a_failed_run_mails_nothing(session, owner, outputs):
    job = job_mailing(session, owner)
    run = finished_run(session, owner, job, outputs, content=CONTENT, status=RunStatus.FAILED)

    assert plan_output_deliveries(session, run, job) == []


def test_a_file_under_the_limit_is_attached(session, session_factory, owner, outputs, smtp_server):
    run = planned_run(session, owner, job_mailing(session, owner, "client@example.test"), outputs)

    report = deliver_outputs(session_factory, output_config(smtp_server.port, outputs))

    assert report.sent == 1
    [message] = smtp_server.messages
    assert message["To"] == "client@example.test"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "report.xlsx"
    assert attachment.get_content() == CONTENT
    assert LINK_PATH not in message.get_body(preferencelist=("plain",)).get_content()
    [delivery] = stored(session, run)
    assert (delivery.status, delivery.is_attached, delivery.link_token_hash) == (
        DeliveryStatus.SENT, True, None)


def test_the_mail_speaks_its_senders_language(session, session_factory, outputs, smtp_server):
    owner = make_user(session, email="majitel@example.test", name="Jana")
    owner.locale = "cs"
    session.commit()
    planned_run(session, owner, job_mailing(session, owner, "klient@example.test"), outputs,
                content=b"x" * 300_000)

    deliver_outputs(session_factory, output_config(smtp_server.port, outputs, attach_max_bytes=10))

    [message] = smtp_server.messages
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert message["Subject"].startswith("[PPC Robot] Report „")
    assert "Jana vám posílá report „" in text
    assert "(0,3 MB) je příliš velký na přílohu. Stáhnout si ho můžete zde do" in text
    assert "Tento e-mail poslal PPC Robot jménem majitel@example.test." in text
    assert "je příliš velký na přílohu." in html and ">zde</a> do " in html
    assert "Hello" not in text + html


def test_an_english_owner_mails_in_english(session, session_factory, owner, outputs, smtp_server):
    planned_run(session, owner, job_mailing(session, owner, "client@example.test"), outputs)

    deliver_outputs(session_factory, output_config(smtp_server.port, outputs))

    [message] = smtp_server.messages
    text = message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    assert message["Subject"].startswith("[PPC Robot] Report “")
    assert text.startswith("Hello,\n\nUser ")
    assert "The file report.xlsx is attached." in text


def test_a_file_over_the_limit_gets_a_link_that_is_stored_only_hashed(
        session, session_factory, owner, outputs, smtp_server):
    run = planned_run(session, owner, job_mailing(session, owner, "client@example.test"), outputs)
    sent_at = utcnow()

    deliver_outputs(session_factory, output_config(smtp_server.port, outputs, attach_max_bytes=10),
                    now=sent_at)

    [message] = smtp_server.messages
    assert list(message.iter_attachments()) == []
    token = link_in(message).rsplit("/", 1)[1]
    [delivery] = stored(session, run)
    assert delivery.is_attached is False
    assert delivery.link_token_hash is not None and token not in delivery.link_token_hash
    assert delivery.link_expires_at == sent_at + timedelta(days=7)
    assert open_link(session, token, SECRET).id == delivery.id


def test_a_link_expires_is_revoked_and_a_wrong_token_opens_nothing(
        session, session_factory, owner, outputs, smtp_server):
    planned_run(session, owner, job_mailing(session, owner), outputs)
    sent_at = utcnow()
    deliver_outputs(session_factory, output_config(smtp_server.port, outputs, attach_max_bytes=10,
                                           link_days=2), now=sent_at)
    token = link_in(smtp_server.messages[0]).rsplit("/", 1)[1]

    assert open_link(session, token, SECRET, now=sent_at + timedelta(days=2, seconds=-1))
    with pytest.raises(LinkExpired, match="expired"):
        open_link(session, token, SECRET, now=sent_at + timedelta(days=2))
    with pytest.raises(LinkError, match="no report"):
        open_link(session, token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), SECRET)
    with pytest.raises(LinkError, match="no report"):
        open_link(session, token, "another-secret")
    revoke_link(session, open_link(session, token, SECRET, now=sent_at))
    session.commit()
    with pytest.raises(LinkRevoked, match="withdrew"):
        open_link(session, token, SECRET, now=sent_at)


def test_retries_after_an_smtp_failure_send_each_recipient_once(
        session, session_factory, owner, outputs, smtp_server):
    run = planned_run(session, owner, job_mailing(session, owner, "a@example.test", "b@example.test"),
                      outputs)
    config = output_config(smtp_server.port, outputs)
    now = utcnow()
    smtp_server.fail_next("451 Try again later")

    first = deliver_outputs(session_factory, config, now=now)
    again_too_soon = deliver_outputs(session_factory, config, now=now + timedelta(seconds=30))
    after_backoff = deliver_outputs(session_factory, config, now=now + timedelta(seconds=61))
    nothing_left = deliver_outputs(session_factory, config, now=now + timedelta(days=1))

    assert (first.sent, first.retrying) == (1, 1)
    assert (again_too_soon.sent, after_backoff.sent, nothing_left.sent) == (0, 1, 0)
    assert sorted(m["To"] for m in smtp_server.messages) == ["a@example.test", "b@example.test"]
    assert [d.status for d in stored(session, run)] == [DeliveryStatus.SENT] * 2
    # the stable Message-ID is the same on every try of one delivery
    assert len({m["Message-ID"] for m in smtp_server.messages}) == 2


def test_a_refused_recipient_is_given_up_with_the_reason(session, session_factory, owner, outputs,
                                                         smtp_server):
    run = planned_run(session, owner, job_mailing(session, owner), outputs)
    smtp_server.fail_next("550 No such mailbox")

    report = deliver_outputs(session_factory, output_config(smtp_server.port, outputs))

    assert report.given_up == 1
    [delivery] = stored(session, run)
    assert delivery.status == DeliveryStatus.GIVEN_UP
    assert delivery.last_error == "Given up after 1 try: the SMTP server answered 550"


def test_a_run_whose_file_is_gone_is_given_up_and_says_so(session, session_factory, owner, outputs,
                                                          smtp_server):
    run = planned_run(session, owner, job_mailing(session, owner), outputs)
    Path(run.output_file).unlink()

    deliver_outputs(session_factory, output_config(smtp_server.port, outputs))

    [delivery] = stored(session, run)
    assert delivery.status == DeliveryStatus.GIVEN_UP
    assert "no longer on the server" in delivery.last_error
    assert smtp_server.messages == []


@pytest.fixture
def holding_smtp():
    server = HoldingSmtpServer().start()
    yield server
    server.stop()


def test_a_worker_killed_mid_delivery_leaves_exactly_one_mail(
        session, session_factory, owner, outputs, holding_smtp, database_url):
    run = planned_run(session, owner, job_mailing(session, owner, "client@example.test"), outputs)
    holding = holding_smtp.hold_next()
    env = {**os.environ, "DATABASE_URL": database_url, "TEST_SMTP_PORT": str(holding_smtp.port),
           "TEST_OUTPUTS_DIR": str(outputs), "PYTHONPATH": str(ROOT)}
    worker = subprocess.Popen([sys.executable, "-m", "tests.support.output_mail"], env=env,
                              cwd=ROOT, start_new_session=True)
    try:
        assert holding.wait(timeout=60), "the worker never reached the SMTP server"
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    config = output_config(holding_smtp.port, outputs)

    while_claimed = deliver_outputs(session_factory, config)
    after_the_claim = deliver_outputs(
        session_factory, config, now=utcnow() + timedelta(seconds=config.delivery.claim_seconds + 1))

    assert (while_claimed.sent, after_the_claim.sent) == (0, 1)
    assert [m["To"] for m in holding_smtp.messages] == ["client@example.test"]
    [delivery] = stored(session, run)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 2)


def test_the_workers_housekeeping_sends_the_output_mails(session, session_factory, owner, outputs,
                                                         smtp_server):
    from ppc_robot.lib.credentials import generate_key
    from ppc_robot.lib.runner.worker import housekeeping

    run = planned_run(session, owner, job_mailing(session, owner), outputs)
    config = {**smtp_server.config(), "SECRET_KEY": SECRET, "PPC_ROBOT_CREDENTIALS_KEY": generate_key(),
              "PPC_ROBOT_BASE_URL": "https://robot.example.test",
              "PPC_ROBOT_OUTPUT_ATTACH_MAX_MB": "0.0001"}  # about 100 bytes: the file goes as a link

    housekeeping(session_factory, RunnerSettings(outputs_dir=outputs, app_config=config,
                                                 instance_path=outputs.parent))

    [message] = smtp_server.messages
    assert message["To"] == owner.email
    token = link_in(message).rsplit("/", 1)[1]
    assert open_link(session, token, SECRET).run_id == run.id


def test_a_google_sheet_is_mailed_as_its_address(session, session_factory, owner, outputs,
                                                 smtp_server):
    job = job_mailing(session, owner)
    run = JobRun(user_id=owner.id, job_id=job.id, status=RunStatus.SUCCEEDED, scheduled_at=utcnow(),
                 finished_at=utcnow(), output_file="https://docs.google.com/spreadsheets/d/abc123")
    session.add(run)
    session.commit()
    plan_output_deliveries(session, run, job)
    session.commit()

    deliver_outputs(session_factory, output_config(smtp_server.port, outputs))

    [message] = smtp_server.messages
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "https://docs.google.com/spreadsheets/d/abc123" in text and LINK_PATH not in text
    assert list(message.iter_attachments()) == []
    [delivery] = stored(session, run)
    assert (delivery.status, delivery.link_token_hash) == (DeliveryStatus.SENT, None)


def test_two_workers_at_once_send_each_mail_once(session, session_factory, owner, outputs,
                                                 smtp_server):
    import threading

    run = planned_run(session, owner, job_mailing(session, owner, *(f"r{n}@example.test"
                                                                    for n in range(6))), outputs)
    config = output_config(smtp_server.port, outputs)
    start = threading.Barrier(2)
    reports = []

    def worker():
        start.wait()
        reports.append(deliver_outputs(session_factory, config))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sum(r.sent for r in reports) == 6
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(f"r{n}@example.test" for n in range(6))
    assert {d.status for d in stored(session, run)} == {DeliveryStatus.SENT}


def test_a_duplicated_job_mails_the_same_recipients(session, owner):
    from ppc_robot.lib.jobs.editing import duplicate_job

    job = job_mailing(session, owner, "client@example.test")

    copy = duplicate_job(session, job)

    assert copy.email_recipients == ["client@example.test"]
