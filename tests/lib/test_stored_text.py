"""Sentences stored in English by the worker, reworded in the reader's language."""

from __future__ import annotations

import pytest

from ppc_robot.lib.stored_text import reword


@pytest.mark.parametrize(
    "stored, czech",
    [("Given up after 1 try: the SMTP server answered 550",
      "Vzdáno po 1 pokusu: server SMTP odpověděl 550"),
     ("Given up after 3 tries: the SMTP server could not be reached (ConnectionRefusedError)",
      "Vzdáno po 3 pokusech: server SMTP není dostupný (ConnectionRefusedError)"),
     ("The worker running this report stopped and every retry was used up.",
      "Proces, který report zpracovával, se zastavil a všechny opakované pokusy jsou vyčerpány."),
     ("The report type “gone_report” is not available.", "Typ reportu „gone_report“ není k dispozici."),
     ("statistics are being collected", "statistiky se právě sbírají"),
     ("Given up after 5 tries: Slack failed (500 rollup_error).",
      "Vzdáno po 5 pokusech: Slack selhal (500 rollup_error)."),
     ("Given up after 1 try: an unexpected error stopped the delivery (RuntimeError)",
      "Vzdáno po 1 pokusu: doručení zastavila neočekávaná chyba (RuntimeError)"),
     ("Slack refused the webhook (404 no_service): it was removed, revoked or its channel "
      "archived. Paste a new webhook URL in the settings.",
      "Slack webhook odmítl (404 no_service): byl odstraněn, zrušen nebo je jeho kanál "
      "archivován. Vložte v nastavení novou adresu webhooku."),
     ("The channel was turned off before the notification was sent.",
      "Kanál byl vypnut dřív, než bylo upozornění odesláno."),
     # A run's log lines.
     ("Pet Food Online: 22 landing pages", "Pet Food Online: vstupních stránek: 22"),
     ("Shop: Main: 7 rows", "Shop: Main: řádků: 7"),
     ("Acme: Sklik answered 502 Bad Gateway", "Acme: Sklik answered 502 Bad Gateway"),
     ("25 distinct URLs collected from 122 landing pages",
      "různých URL: 25 (ze vstupních stránek: 122)"),
     ("money converted to EUR at the ECB's reference rates",
      "částky převedeny na EUR referenčními kurzy ECB"),
     ("rescheduled for 2026-12-04 07:00 UTC", "přeplánováno na 2026-12-04 07:00 UTC")],
)
def test_known_sentences_are_reworded_in_czech(stored, czech):
    assert reword(stored, "cs") == czech


def test_english_and_unknown_text_show_as_stored():
    assert reword("Given up after 1 try: the SMTP server answered 550", "en") == \
        "Given up after 1 try: the SMTP server answered 550"
    assert reword("Sklik answered 502 Bad Gateway", "cs") == "Sklik answered 502 Bad Gateway"
    # A known frame keeps a part it does not know as stored.
    assert reword("Given up after 2 tries: relay said no", "cs") == "Vzdáno po 2 pokusech: relay said no"
    assert reword(None, "cs") == ""
