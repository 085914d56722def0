from __future__ import annotations

import pytest

from ppc_robot.lib.mail import Mail, MailError, MailSettings, outbox_messages, send_mail


def smtp_settings(server, tmp_path):
    return MailSettings.from_config(server.config(), tmp_path)


def test_mail_reaches_the_smtp_server_with_text_and_html(smtp_server, tmp_path):
    settings = smtp_settings(smtp_server, tmp_path)

    message_id = send_mail(settings, Mail("ana@example.test", "Report failed", "plain body", "<p>html body</p>"))

    [received] = smtp_server.messages
    assert received["To"] == "ana@example.test"
    assert received["Message-ID"] == message_id
    assert received.get_body(("plain",)).get_content().strip() == "plain body"
    assert "<p>html body</p>" in received.get_body(("html",)).get_content()


def test_without_smtp_mail_goes_to_the_outbox(tmp_path):
    settings = MailSettings.from_config({}, tmp_path)

    send_mail(settings, Mail("ana@example.test", "Hello", "body text"))

    [stored] = outbox_messages(tmp_path / "outbox")
    assert stored.to == "ana@example.test"
    assert stored.subject == "Hello"
    assert stored.text.strip() == "body text"


@pytest.mark.parametrize("to, subject", [("ana@example.test\r\nBcc: eve@example.test", "Hi"),
                                         ("ana@example.test", "Hi\nBcc: eve@example.test")])
def test_line_breaks_in_headers_are_refused(tmp_path, to, subject):
    with pytest.raises(ValueError, match="line break"):
        send_mail(MailSettings.from_config({}, tmp_path), Mail(to, subject, "body"))
    assert outbox_messages(tmp_path / "outbox") == []


def test_a_temporary_smtp_refusal_is_reported_as_temporary(smtp_server, tmp_path):
    smtp_server.fail_next("451 Try again later")

    with pytest.raises(MailError) as refused:
        send_mail(smtp_settings(smtp_server, tmp_path), Mail("ana@example.test", "Hi", "body"))

    assert refused.value.temporary
    assert smtp_server.messages == []


def test_an_unreachable_server_is_temporary(tmp_path):
    from tests.support.smtp import free_port

    settings = MailSettings.from_config({"SMTP_HOST": "127.0.0.1", "SMTP_PORT": free_port(), "SMTP_TIMEOUT": 2}, tmp_path)

    with pytest.raises(MailError) as failed:
        send_mail(settings, Mail("ana@example.test", "Hi", "body"))

    assert failed.value.temporary
