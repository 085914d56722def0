"""Forms of the job pages: the editor, bulk actions, and the small confirmation forms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ppc_robot.lib.jobs import DefinitionUse
from ppc_robot.lib.models import Folder, OutputType, ScheduleKind, Tag
from ppc_robot.lib.models.jobs import DEFINITION_NAME_MAX, JOB_NAME_MAX, OUTPUT_PATH_MAX
from ppc_robot.lib.reports import report_types
from ppc_robot.lib.schedules import WEEKDAY_NAMES, time_zone_names
from ppc_robot.web.folders.forms import strip_whitespace

SCHEDULE_KINDS = [
    (ScheduleKind.MANUAL.value, "Only when started by hand"),
    (ScheduleKind.HOURLY.value, "Every hour"),
    (ScheduleKind.DAILY.value, "Every day"),
    (ScheduleKind.WEEKLY.value, "Weekly on chosen days"),
    (ScheduleKind.MONTHLY.value, "Monthly on a day"),
    (ScheduleKind.CRON.value, "Cron expression"),
]
OUTPUT_TYPES = [
    (OutputType.XLSX.value, "Excel workbook (XLSX)"),
    (OutputType.CSV.value, "CSV file"),
    (OutputType.GOOGLE_SHEETS.value, "Google Sheet"),
]
NEW_DEFINITION = 0


def _ids(values: Any) -> list[int]:
    return [int(v) for v in values or []]


class JobForm(FlaskForm):
    """The job editor, apart from the report's own parameters (a form of the report type).

    Id choices come from the user's rows; ids posted back are resolved again with owned(),
    so another user's id answers 404 rather than a choice error.
    """

    name = StringField("Name", [InputRequired("Give the job a name."), Length(max=JOB_NAME_MAX)],
                       filters=[strip_whitespace])
    folder_id = SelectField("Folder", coerce=int, validate_choice=False)
    task_type = SelectField("Report type")
    definition_id = SelectField(
        "Definition", coerce=int, validate_choice=False,
        description="A shared definition carries the report's parameters for every job using it.",
    )
    definition_name = StringField(
        "Definition name", [Optional(), Length(max=DEFINITION_NAME_MAX)], filters=[strip_whitespace],
        description="Shown on the definitions page; empty takes the job's name.",
    )
    output_type = SelectField("Output", choices=OUTPUT_TYPES, default=OutputType.XLSX.value)
    output_path = StringField(
        "File name pattern or spreadsheet", [Optional(), Length(max=OUTPUT_PATH_MAX)],
        filters=[strip_whitespace],
        description="A file name with {job}, {date} or {account}; for a Google Sheet its id "
                    "or address (empty: the first run creates one).",
    )
    client_account_ids = SelectMultipleField("Client accounts", coerce=int, validate_choice=False)
    tag_ids = SelectMultipleField("Tags", coerce=int, validate_choice=False)
    schedule_kind = SelectField("Runs", choices=SCHEDULE_KINDS, default="manual")
    schedule_minute = IntegerField("At minute", [Optional(), NumberRange(0, 59)], default=0)
    schedule_time = StringField("At", filters=[strip_whitespace], default="07:00",
                                description="HH:MM in the job's time zone.")
    schedule_weekdays = SelectMultipleField(
        "On", coerce=int, choices=list(enumerate(WEEKDAY_NAMES))
    )
    schedule_day = IntegerField("Day of the month", [Optional()], default=1)
    schedule_cron = StringField("Cron expression", filters=[strip_whitespace],
                                description="Minute hour day-of-month month day-of-week.")
    time_zone = SelectField("Time zone", validate_choice=False)
    is_enabled = BooleanField("Enabled: runs on its schedule", default=True)

    def __init__(
        self,
        folders: Sequence[tuple[Folder, int]],
        definitions: Sequence[DefinitionUse],
        accounts: Sequence[Any],
        tags: Sequence[Tag],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.folder_id.choices = [(f.id, "\u2003" * depth + f.name) for f, depth in folders]
        self.task_type.choices = [(t.name, t.label) for t in report_types()]
        self.definition_id.choices = [(NEW_DEFINITION, "A new definition for this job")] + [
            (use.definition.id, _definition_label(use)) for use in definitions
        ]
        self.client_account_ids.choices = [(a.id, a.name) for a in accounts]
        self.tag_ids.choices = [(t.id, t.name) for t in tags]
        self.time_zone.choices = [(z, z) for z in time_zone_names()]

    def posted_ids(self) -> dict[str, list[int]]:
        """The ids the form sent, whatever else is wrong with it (for owned())."""
        return {
            "folder": _ids([self.folder_id.data] if self.folder_id.data else []),
            "definition": _ids([self.definition_id.data] if self.definition_id.data else []),
            "accounts": _ids(self.client_account_ids.data),
            "tags": _ids(self.tag_ids.data),
        }


def _definition_label(use: DefinitionUse) -> str:
    name = use.definition.name or f"Definition {use.definition.id}"
    count = len(use.jobs)
    return f"{name} — used by {count} job{'s' if count != 1 else ''}"


class JobBulkForm(FlaskForm):
    """An action over the jobs ticked in a list."""

    job_ids = SelectMultipleField("Jobs", coerce=int, validate_choice=False)
    action = SelectField(
        "Action",
        choices=[("move", "Move"), ("tag", "Add tag"), ("untag", "Remove tag"),
                 ("enable", "Enable"), ("disable", "Disable")],
    )
    tag_id = SelectField("Tag", coerce=int, validate_choice=False, validators=[Optional()])
    target_id = SelectField("Move into", coerce=int, validate_choice=False,
                            validators=[Optional()])
    next = HiddenField()


class ConfirmForm(FlaskForm):
    """A POST with only its CSRF token: delete, duplicate, detach."""
