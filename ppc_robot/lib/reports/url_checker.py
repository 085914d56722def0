"""The URL checker (the original's first report): every landing page of the job's ads,
keywords and sitelinks, checked safely, politely and resumably.

Only its parameters live here; the run (collecting, checking, storing) is in
url_checker_run.py, its progress in url_checker_store.py, its outputs in url_checker_output.py
and its notifications in url_checker_notify.py; the checking engine is `ppc_robot.lib.urlcheck`.
"""

from __future__ import annotations

from typing import Any

from wtforms import BooleanField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ppc_robot.lib.bounds import Bound
from ppc_robot.lib.fields import BoundedIntegerField
from ppc_robot.lib.reports.catalogue import Parameters, ReportParametersForm, ReportType
from ppc_robot.lib.urlcheck import DEFAULT_SOFT_404_PHRASES

ENTITIES = [("ad", "Ads' final URLs"), ("ad_mobile", "Ads' mobile final URLs"),
            ("keyword", "Keywords' final URLs"), ("sitelink", "Sitelinks")]
CONNECT_TIMEOUT = Bound(1, 60, "a number of seconds")
TOTAL_TIMEOUT = Bound(1, 120, "a number of seconds")
DEFAULT_CONNECT_TIMEOUT = 10
DEFAULT_TOTAL_TIMEOUT = 30
PHRASES_MAX = 5000
MONITOR_MAX = 200


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def phrases_of(text: str | None) -> tuple[str, ...]:
    """The soft-404 phrases of the textarea: one per line, blank lines left out."""
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


class UrlCheckerParametersForm(ReportParametersForm):
    """Parameters of the URL checker."""

    entities = SelectMultipleField(
        "Check the landing pages of", choices=ENTITIES,
        validators=[InputRequired("Pick at least one kind of landing page.")],
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    include_paused = BooleanField(
        "Include paused ads, keywords and sitelinks",
        description="Removed ones are never checked.")
    soft_404_phrases = TextAreaField(
        "Soft-404 phrases", validators=[Length(max=PHRASES_MAX)],
        description="One per line. A page that answers 200 but contains one of them (ignoring "
                    "case) counts as broken; pages are then read with GET (a HEAD request has no "
                    "text to search). Leave empty to turn this off: with no phrases and no text to "
                    "monitor, each URL gets a HEAD request first, and a GET only when HEAD is "
                    "refused or answers an error.")
    monitor_text = StringField(
        "Text to monitor", filters=[_strip], validators=[Optional(), Length(max=MONITOR_MAX)],
        description="Optional: a page without this text (plain text, ignoring case) counts as "
                    "broken. Set, it makes every page be read with GET.")
    connect_timeout = BoundedIntegerField(
        "Connect timeout (seconds)", validators=[Optional()], bound=CONNECT_TIMEOUT,
        default=DEFAULT_CONNECT_TIMEOUT)
    total_timeout = BoundedIntegerField(
        "Timeout per URL (seconds)", validators=[Optional()], bound=TOTAL_TIMEOUT,
        default=DEFAULT_TOTAL_TIMEOUT, description="All its redirects included.")
    notify_redirects = BooleanField(
        "Notify about redirects", description="A notification listing the URLs that redirect.")

    def parameters(self) -> Parameters:
        result = super().parameters()
        result["include_paused"] = bool(result["include_paused"])
        result["notify_redirects"] = bool(result["notify_redirects"])
        result["soft_404_phrases"] = "\n".join(phrases_of(result["soft_404_phrases"]))
        result["monitor_text"] = result["monitor_text"] or ""
        result["connect_timeout"] = result["connect_timeout"] or DEFAULT_CONNECT_TIMEOUT
        result["total_timeout"] = result["total_timeout"] or DEFAULT_TOTAL_TIMEOUT
        return result


def default_parameters() -> Parameters:
    return {"entities": [name for name, _ in ENTITIES], "include_paused": False,
            "soft_404_phrases": "\n".join(DEFAULT_SOFT_404_PHRASES), "monitor_text": "",
            "connect_timeout": DEFAULT_CONNECT_TIMEOUT, "total_timeout": DEFAULT_TOTAL_TIMEOUT,
            "notify_redirects": False}


URL_CHECKER = ReportType(
    name="url_checker",
    label="URL checker",
    version=1,
    form_class=UrlCheckerParametersForm,
    description="Every landing page of the accounts' ads, keywords and sitelinks: broken pages, "
                "redirects, soft 404s and pages blocking robots.",
    default_parameters=default_parameters,
)
