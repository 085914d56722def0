"""Sentences the worker stores in English (a run's failure, an output mail's last error),
shown in the reader's language.

The worker writes the English sentence, formatted from an `N_` msgid; a page rewords it: an
exact msgid is translated, a sentence made from one of `STORED` is matched, its parts reworded
in turn, and formatted again from the translated msgid. Anything else (rows stored before,
text from a platform) is shown as stored.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ppc_robot.lib.i18n import DEFAULT_LOCALE, N_, locale_or_default, translate

# Stored sentences with parts; the first that matches a text wins.
STORED: tuple[str, ...] = (
    N_("Given up after 1 try: %(reason)s"),
    N_("Given up after %(count)d tries: %(reason)s"),
    N_("the SMTP server answered %(code)s"),
    N_("the SMTP server could not be reached (%(error)s)"),
    N_("an unexpected error stopped the delivery (%(error)s)"),
    N_("Slack could not be reached (%(error)s)."),
    N_("Slack failed (%(status)s %(body)s)."),
    N_("Slack refused the webhook (%(status)s %(body)s): it was removed, revoked or its "
       "channel archived. Paste a new webhook URL in the settings."),
    N_("Slack refused the message (%(status)s %(body)s)."),
    N_("The report type “%(name)s” is not available."),
    N_("Unexpected error (%(error)s); it was logged."),
    N_("The report's settings are no longer valid: %(reason)s"),
    N_("No client account could be read: %(accounts)s. Pick others in the job editor."),
    N_("The Google login “%(name)s” no longer works: %(reason)s"),
    N_("Google did not answer properly: %(reason)s"),
    N_("The Google login “%(name)s” may not create spreadsheets (%(reason)s). Link it again to "
       "allow Google Sheets, or give the job a spreadsheet's id."),
    N_("The Google spreadsheet “%(sheet)s” does not exist or is not shared with the Google login "
       "“%(name)s”."),
    N_("Google refused the login “%(name)s”: %(reason)s"),
    N_("Google Sheets is busy: %(reason)s"),
    N_("Google Sheets refused the report: %(reason)s"),
    N_("The output file name pattern is not valid (%(reason)s); use {job} and {date}."),
    # Why the URL checker found a landing page broken (its run page and notifications).
    N_("No complete answer within %(seconds)s s (timeout)."),
    N_("No connection within %(seconds)s s (connect timeout)."),
    N_("Not checked: %(reason)s; the checker does not fetch internal addresses."),
    N_("a cloud metadata address (%(address)s)"),
    N_("a loopback address (%(address)s)"),
    N_("a link-local address (%(address)s)"),
    N_("a private address (%(address)s)"),
    N_("a reserved address (%(address)s)"),
    N_("The request failed (%(error)s)."),
    N_("Redirects to a non-web address (%(scheme)s:)."),
    N_("More than %(count)d redirects."),
    N_("Soft 404: the page says “%(phrase)s”."),
    N_("The monitored text “%(text)s” is not on the page."),
    N_("%(answer)s: probably bot protection or overload, not counted as broken."),
    N_("%(answer)s without a Location header."),
    N_("Unexpected answer %(answer)s."),
    N_("TLS error: %(reason)s."),
    N_("Could not connect (%(reason)s)."),
    N_("The URL is longer than %(count)d characters."),
    N_("The URL cannot be read (%(reason)s)."),
    # A run's log, a line at a time (after its time stamp).
    N_("attempt %(attempt)d started"),
    N_("rescheduled for %(when)s UTC"),
    N_("created the Google spreadsheet %(id)s"),
    N_("%(count)d rows"),
    N_("%(count)d rows written"),
    N_("%(count)d days refreshed"),
    N_("%(count)d landing pages"),
    N_("%(urls)d distinct URLs collected from %(pages)d landing pages"),
    N_("resumed: %(done)d URLs already checked, %(left)d left"),
    N_("%(count)d URLs checked: %(summary)s"),
    N_("money converted to %(currency)s at the ECB's reference rates"),
    N_("%(count)d client accounts in the overview"),
    N_("%(anomalies)d anomalies among %(entities)d accounts and campaigns"),
    N_("%(count)d rule hits"),
    N_("%(account)s: %(outcome)s"),  # the most general: last
)
# A placeholder: its name and conversion; "%(count)d" holds a whole number, so "Acme: 7 rows" is
# an account's line ("%(account)s: %(outcome)s"), not a count of "Acme: 7" rows.
_PLACEHOLDER = re.compile(r"%\((\w+)\)([sd])")
_MATCHES = {"s": ".+?", "d": r"\d+"}


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    compiled = []
    for template in STORED:
        pieces = _PLACEHOLDER.split(template)
        # split gives text, name, conversion, text, name, conversion, ..., text
        regex = "".join(re.escape(text) + (f"(?P<{name}>{_MATCHES[kind]})" if name else "")
                        for text, name, kind in zip(pieces[::3], [*pieces[1::3], ""],
                                                    [*pieces[2::3], ""], strict=True))
        compiled.append((template, re.compile(regex, re.DOTALL)))
    return tuple(compiled)


def reword(text: str | None, locale: str | None) -> str:
    """`text`, stored in English, in `locale` when it is a sentence the catalog knows; else as
    stored."""
    if not text or locale_or_default(locale) == DEFAULT_LOCALE:
        return text or ""
    exact = translate(text, locale)
    if exact != text:
        return exact
    for template, regex in _patterns():
        match = regex.fullmatch(text)
        if match:
            parts = {name: int(value) if value.isdigit() else reword(value, locale)
                     for name, value in match.groupdict().items()}
            return translate(template, locale) % parts
    return text
