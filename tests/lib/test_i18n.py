"""Translations without Flask: notifications and their mails in the reader's language."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import pytest

from ppc_robot.lib import i18n
from ppc_robot.lib.i18n import compile_catalogs, parse_number, set_number_locale, translate
from ppc_robot.lib.i18n_extract import extract_report_forms
from ppc_robot.lib.message_values import money_value, percent_value
from ppc_robot.lib.notifications import emit, notification_type
from ppc_robot.lib.notifications.messages import describe, digest_mail, immediate_mail
from ppc_robot.lib.notifications.translated import (
    extract_catalogue,
    translated_message,
    translated_type,
)
from tests.factories import make_job, make_user

BASE = "https://robot.example.test"


@pytest.fixture(autouse=True)
def _compiled() -> None:
    compile_catalogs()


def test_a_stored_notification_reads_in_each_viewers_language(session):
    user = make_user(session)
    notification = emit(session, user.id, "report_failed",
                        params={"job": "Denní výkon", "reason": "timeout"})

    assert translated_message(notification, "en") == "Report “Denní výkon” failed: timeout"
    assert translated_message(notification, "cs") == "Report „Denní výkon“ selhal: timeout"


def test_why_a_report_failed_reads_in_czech_inside_its_notification(session):
    user = make_user(session)
    notification = emit(session, user.id, "report_failed", params={
        "job": "Denní výkon",
        "reason": "The report type “gone_report” is not available."})

    assert translated_message(notification, "cs") == (
        "Report „Denní výkon“ selhal: Typ reportu „gone_report“ není k dispozici.")


def test_amounts_and_shares_in_a_message_are_written_as_each_reader_writes_them(session):
    user = make_user(session)
    pacing = emit(session, user.id, "budget_overspend", params={
        "client": "Acme", "spent": money_value(Decimal("7955.991"), "CZK"),
        "budget": money_value(Decimal("6120"), "CZK"),
        "monthly": money_value(Decimal("63240"), "CZK")})
    target = emit(session, user.id, "target_missed_days", params={
        "client": "Acme", "metric": "PNO", "days": 3, "value": percent_value(Decimal("0.3477")),
        "target": percent_value(Decimal("0.313"))})

    assert translated_message(pacing, "en") == pacing.message == (
        "“Acme” is pacing over its monthly budget: CZK\u00a07,955.99 spent, CZK\u00a06,120.00 "
        "expected by now, CZK\u00a063,240.00 for the month")
    assert translated_message(pacing, "cs") == (
        "„Acme“ čerpá nad měsíční rozpočet: utraceno 7\u00a0955,99\u00a0Kč, k dnešku očekáváno "
        "6\u00a0120,00\u00a0Kč, na celý měsíc 63\u00a0240,00\u00a0Kč")
    assert "34.8% against 31.3%" in translated_message(target, "en")
    assert "34,8\u00a0% oproti 31,3\u00a0%" in translated_message(target, "cs")


def test_a_help_page_type_has_its_czech_texts():
    kind = translated_type(notification_type("budget_overspend"), "cs")

    assert kind.title == "Čerpání rozpočtu nad plánem"
    assert kind.what_to_do.startswith("Snižte nabídky")
    assert notification_type("budget_overspend").title == "Budget pacing over"  # unchanged


def test_a_czech_users_notification_mail_is_in_czech(session):
    user = make_user(session, time_zone="Europe/Prague")
    user.locale = "cs"
    job = make_job(session, user, name="Denní výkon")
    notification = emit(session, user.id, "report_failed",
                        params={"job": job.name, "reason": "timeout"}, job_id=job.id)
    session.commit()
    [item] = describe(session, [notification], BASE)

    mail = immediate_mail(user, item, BASE, message_id="<m@x>")
    digest = digest_mail(user, [item], notification.created_at.date(), BASE, message_id="<d@x>")

    assert mail.subject == "[PPC Robot] Chyba: Report „Denní výkon“ selhal: timeout"
    assert "Zjištěno:" in mail.text and "Report selhal (chyba)" in mail.text
    assert 'lang="cs"' in mail.html and "Co dělat" in mail.html
    assert digest.subject.startswith("[PPC Robot] Denní přehled za ")
    assert "1 upozornění" in digest.text


def test_an_english_users_mail_stays_english(session):
    user = make_user(session)
    job = make_job(session, user, name="Daily")
    notification = emit(session, user.id, "report_failed", params={"job": "Daily", "reason": "x"},
                        job_id=job.id)
    session.commit()
    [item] = describe(session, [notification], BASE)

    mail = immediate_mail(user, item, BASE, message_id="<m@x>")

    assert mail.subject == "[PPC Robot] Error: Report “Daily” failed: x"
    assert translate("Report failed", "en") == "Report failed"


@pytest.mark.parametrize(("locale", "typed", "expected"), [
    ("cs", "1 234,5", Decimal("1234.5")), ("cs", "0,15", Decimal("0.15")),
    ("cs", "12.5", Decimal("12.5")), ("en", "1234.5", Decimal("1234.5")),
    ("en", "1 234,5", None), (None, "NaN", None), ("cs", "abc", None),
])
def test_numbers_are_read_as_the_locale_writes_them(locale, typed, expected):
    previous = i18n._number_locale  # the web app's, when the session built one
    set_number_locale(lambda: locale)
    try:
        assert parse_number(typed) == expected
    finally:
        set_number_locale(previous)


def test_the_report_forms_extractor_finds_lists_refusals_and_marked_texts() -> None:
    source = b'''
rules = RuleList(FormField(RuleForm), "Rules", description="rule")
def check(field):
    raise ValidationError("Give the percentage." if field.is_change else "Give the threshold.")
label = N_("Rule %(number)s")
'''
    found = [text for _line, _f, text, _c in extract_report_forms(BytesIO(source), [], [], {})]

    assert sorted(found) == ["Give the percentage.", "Give the threshold.", "Rule %(number)s",
                             "Rules", "rule"]


def test_the_catalogue_extractor_finds_a_category_appended_later() -> None:
    source = b'CATEGORY_NAMES = {1: "Jobs and runs"}\nCATEGORY_NAMES[8] = "Performance anomalies"\n'
    found = [text for _line, _f, text, _c in extract_catalogue(BytesIO(source), [], [], {})]

    assert sorted(found) == ["Jobs and runs", "Performance anomalies"]


def test_a_catalog_pybabel_would_refuse_does_not_compile(tmp_path):
    from ppc_robot.lib.i18n import compile_catalogs

    folder = tmp_path / "cs" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'
        '#, python-format\nmsgid "Threshold 5 % unless set"\nmsgstr "Práh 5 %"\n',
        encoding="utf-8")

    with pytest.raises(ValueError, match="placeholders are incompatible"):
        compile_catalogs(tmp_path)
    assert not (folder / "messages.mo").exists()
