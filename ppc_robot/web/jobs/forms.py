"""Forms of the job pages: the editor, bulk actions, and the small confirmation forms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import get_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Form,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import InputRequired, Length, Optional

from ppc_robot.lib.bounds import Bound
from ppc_robot.lib.fields import BoundedIntegerField, IdField, IdListField
from ppc_robot.lib.i18n import N_
from ppc_robot.lib.jobs import DefinitionUse, login_label
from ppc_robot.lib.models import (
    Client,
    Folder,
    JobLevel,
    OutputType,
    ScheduleKind,
    ServiceAccount,
    ServiceAccountStatus,
    Tag,
)
from ppc_robot.lib.models.jobs import DEFINITION_NAME_MAX, JOB_NAME_MAX, OUTPUT_PATH_MAX
from ppc_robot.lib.models.outputs import RECIPIENTS_MAX
from ppc_robot.lib.output_delivery import RecipientsError, parse_recipients
from ppc_robot.lib.reports import report_types
from ppc_robot.lib.schedules import JobSchedule, time_zone_names, weekday_names
from ppc_robot.web.folders.forms import strip_whitespace
from ppc_robot.web.i18n import refusal

SCHEDULE_KINDS = [
    (ScheduleKind.MANUAL.value, _l("Only when started by hand")),
    (ScheduleKind.HOURLY.value, _l("Every hour")),
    (ScheduleKind.DAILY.value, _l("Every day")),
    (ScheduleKind.WEEKLY.value, _l("Weekly on chosen days")),
    (ScheduleKind.MONTHLY.value, _l("Monthly on a day")),
    (ScheduleKind.CRON.value, _l("Cron expression")),
]
OUTPUT_TYPES = [
    (OutputType.XLSX.value, _l("Excel workbook (XLSX)")),
    (OutputType.CSV.value, _l("CSV file")),
    (OutputType.GOOGLE_SHEETS.value, _l("Google Sheet")),
]
LEVELS = [
    (JobLevel.CLIENT_ACCOUNT.value, _l("Chosen client accounts")),
    (JobLevel.SERVICE_ACCOUNT.value, _l("Every account of a login")),
    (JobLevel.CLIENT.value, _l("Every account of a client")),
]
NEW_DEFINITION = 0
NOTHING_CHOSEN = 0
SCHEDULE_FIELD_NAMES = ("schedule_kind", "schedule_minute", "schedule_time", "schedule_weekdays",
                        "schedule_day", "schedule_cron", "time_zone")


MINUTE = Bound(0, 59, "a minute")
DAY_OF_MONTH = Bound(1, 31, "a day of the month")


def _ids(values: Any) -> list[int]:
    return [int(v) for v in values or []]


class ScheduleForm(Form):
    """The schedule fields: part of the job editor, and alone its live preview (a GET)."""

    schedule_kind = SelectField(_l("Runs"), choices=SCHEDULE_KINDS, default="manual")
    schedule_minute = BoundedIntegerField(_l("At minute"), [Optional()], bound=MINUTE, default=0)
    schedule_time = StringField(_l("At"), filters=[strip_whitespace], default="07:00",
                                description=_l("HH:MM in the job's time zone."))
    schedule_weekdays = SelectMultipleField(
        # Day names in the request's language, from Babel's locale data.
        _l("On"), coerce=int, choices=lambda: list(enumerate(weekday_names(str(get_locale()))))
    )
    schedule_day = BoundedIntegerField(_l("Day of the month"), [Optional()], bound=DAY_OF_MONTH,
                                       default=1)
    schedule_cron = StringField(_l("Cron expression"), filters=[strip_whitespace],
                                description=_l("Minute hour day-of-month month day-of-week."))
    time_zone = SelectField(_l("Time zone"), validate_choice=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.time_zone.choices = [(z, z) for z in time_zone_names()]

    def schedule(self) -> JobSchedule:
        """The schedule as typed, for lib to check (normalise_schedule)."""
        params = {
            "minute": self.schedule_minute.data if self.schedule_minute.data is not None else 0,
            "time": self.schedule_time.data or "",
            "weekdays": list(self.schedule_weekdays.data or []),
            "day": self.schedule_day.data,
            "cron": self.schedule_cron.data or "",
        }
        return JobSchedule(self.schedule_kind.data, params, self.time_zone.data or "")  # type: ignore[arg-type]

    def schedule_errors(self) -> list[tuple[str, str]]:
        """(field name, message) of every schedule field the form itself refused."""
        return [(name, message) for name in SCHEDULE_FIELD_NAMES
                for message in self[name].errors]



class JobForm(FlaskForm, ScheduleForm):
    """The job editor, apart from the report's own parameters (a form of the report type).

    Id choices come from the user's rows; ids posted back are resolved again with owned(),
    so another user's id answers 404 rather than a choice error.
    """

    name = StringField(_l("Name"), [InputRequired(_l("Give the job a name.")), Length(max=JOB_NAME_MAX)],
                       filters=[strip_whitespace])
    folder_id = IdField(_l("Folder"), validate_choice=False)
    task_type = SelectField(_l("Report type"))
    definition_id = IdField(
        _l("Definition"), validate_choice=False,
        description=_l("A shared definition carries the report's parameters for every job using it."),
    )
    definition_name = StringField(
        _l("Definition name"), [Optional(), Length(max=DEFINITION_NAME_MAX)], filters=[strip_whitespace],
        description=_l("Shown on the definitions page; empty takes the job's name."),
    )
    output_type = SelectField(_l("Output"), choices=OUTPUT_TYPES, default=OutputType.XLSX.value)
    output_path = StringField(
        _l("File name pattern or spreadsheet"), [Optional(), Length(max=OUTPUT_PATH_MAX)],
        filters=[strip_whitespace],
        description=_l("A file name with {job}, {date} or {account}; for a Google Sheet its id "
                    "or address (empty: the first run creates one)."),
    )
    level = RadioField(_l("Reads"), choices=LEVELS, default=JobLevel.CLIENT_ACCOUNT.value)
    client_account_ids = IdListField(_l("Client accounts"), validate_choice=False)
    service_account_id = IdField(
        _l("Login"), validate_choice=False, default=NOTHING_CHOSEN,
        description=_l("Every client account of the login, including new ones found at sync."),
    )
    client_id = IdField(
        _l("Client"), validate_choice=False, default=NOTHING_CHOSEN,
        description=_l("Every client account grouped into the client when the job runs."),
    )
    tag_ids = IdListField(_l("Tags"), validate_choice=False)
    is_enabled = BooleanField(_l("Enabled: runs on its schedule"), default=True)
    email_output = BooleanField(_l("E-mail the finished output after every run"))
    email_recipients = TextAreaField(
        _l("Recipients"), [Length(max=RECIPIENTS_MAX * 260)], render_kw={"rows": 3},
        description=_l("One address per line or separated by commas, at most %(count)s; "
                       "empty sends it to you. Large files arrive as a download link.",
                       count=RECIPIENTS_MAX),
    )

    def __init__(
        self,
        folders: Sequence[tuple[Folder, int]],
        definitions: Sequence[DefinitionUse],
        accounts: Sequence[Any],
        tags: Sequence[Tag],
        logins: Sequence[tuple[ServiceAccount, int]] = (),
        clients: Sequence[tuple[Client, int]] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.folder_id.choices = [(f.id, "\u2003" * depth + f.name) for f, depth in folders]
        self.task_type.choices = [(t.name, _l(t.label)) for t in report_types()]
        self.definition_id.choices = [(NEW_DEFINITION, _l("A new definition for this job"))] + [
            (use.definition.id, _definition_label(use)) for use in definitions
        ]
        self.client_account_ids.choices = [(a.id, a.name) for a in accounts]
        self.tag_ids.choices = [(t.id, t.name) for t in tags]
        self.service_account_id.choices = [(NOTHING_CHOSEN, _l("Choose a login…"))] + [
            (login.id, _login_choice(login, count)) for login, count in logins
        ]
        self.client_id.choices = [(NOTHING_CHOSEN, _l("Choose a client…"))] + [
            (client.id, f"{client.name} ({_accounts(count)})") for client, count in clients
        ]

    def validate_email_recipients(self, field: TextAreaField) -> None:
        if self.email_output.data:
            try:
                parse_recipients(field.data or "")
            except RecipientsError as exc:
                raise ValidationError(refusal(exc)) from exc

    def recipients(self, owner_email: str) -> list[str]:
        """Whom the output is mailed to: none when off, the owner when the list is empty."""
        if not self.email_output.data:
            return []
        return parse_recipients(self.email_recipients.data or "") or [owner_email]

    def posted_ids(self) -> dict[str, list[int]]:
        """The ids the form sent, whatever else is wrong with it (for owned())."""
        return {
            "folder": _ids([self.folder_id.data] if self.folder_id.data else []),
            "definition": _ids([self.definition_id.data] if self.definition_id.data else []),
            "accounts": _ids(self.client_account_ids.data),
            "tags": _ids(self.tag_ids.data),
            "service_account": _ids([self.service_account_id.data]
                                    if self.service_account_id.data else []),
            "client": _ids([self.client_id.data] if self.client_id.data else []),
        }


# A login that does not work, as the level picker flags it.
LOGIN_STATES = {ServiceAccountStatus.EXPIRED: N_("expired"),
                ServiceAccountStatus.REVOKED: N_("revoked"),
                ServiceAccountStatus.RATE_LIMITED: N_("rate limited"),
                ServiceAccountStatus.UNLINKED: N_("unlinked")}


def _accounts(count: int) -> str:
    return ngettext("%(num)s account", "%(num)s accounts", count)


def _login_choice(login: ServiceAccount, count: int) -> str:
    label = f"{login_label(login.platform, login.name)} ({_accounts(count)})"
    if login.status is not ServiceAccountStatus.VALID:
        label += f" — {gettext(LOGIN_STATES.get(login.status, login.status.value))}"
    return label


def _definition_label(use: DefinitionUse) -> str:
    name = use.definition.name or gettext("Definition %(id)s", id=use.definition.id)
    return ngettext("%(name)s — used by %(num)s job", "%(name)s — used by %(num)s jobs",
                    len(use.jobs), name=name)


class JobBulkForm(FlaskForm):
    """An action over the jobs ticked in a list."""

    job_ids = IdListField(_l("Jobs"), validate_choice=False)
    action = SelectField(
        _l("Action"),
        choices=[("move", _l("Move")), ("tag", _l("Add tag")), ("untag", _l("Remove tag")),
                 ("enable", _l("Enable")), ("disable", _l("Disable"))],
    )
    tag_id = IdField(_l("Tag"), validate_choice=False, validators=[Optional()])
    target_id = IdField(_l("Move into"), validate_choice=False, validators=[Optional()])
    next = HiddenField()


class ConfirmForm(FlaskForm):
    """A POST with only its CSRF token: delete, duplicate, detach."""
