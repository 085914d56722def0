"""Forms of the notification pages: list filters, snooze, and the channel settings."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Form, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import CheckboxInput, ListWidget, PasswordInput

from ppc_robot.lib.bounds import Bound
from ppc_robot.lib.fields import BoundedIntegerField
from ppc_robot.lib.models import EmailMode, NotificationLevel, Platform
from ppc_robot.lib.notifications import CATEGORY_NAMES
from ppc_robot.lib.notifications.channels import SLACK_URL_MAX
from ppc_robot.lib.notifications.inbox import FilterChoices
from ppc_robot.lib.notifications.translated import LEVEL_NAMES

LEVEL_CHOICES = [(level.value, _l(LEVEL_NAMES[level])) for level in NotificationLevel]
CATEGORY_CHOICES = [(number, _l(name)) for number, name in sorted(CATEGORY_NAMES.items())]
SNOOZE_CHOICES = [("1h", _l("1 hour")), ("1d", _l("1 day")), ("7d", _l("7 days")),
                  ("30d", _l("30 days"))]


def _any(label: Any, pairs: Any) -> list[tuple[str, Any]]:
    return [("", label)] + [(str(value), text) for value, text in pairs]


class NotificationFilterForm(Form):
    """The list's filters, read from the query string (a GET form: nothing to forge)."""

    level = SelectField(_l("Level"), choices=_any(_l("Any level"), LEVEL_CHOICES), default="")
    category = SelectField(_l("Category"), choices=_any(_l("Any category"), CATEGORY_CHOICES), default="")
    platform = SelectField(_l("Platform"), default="",
                           choices=_any(_l("Any platform"), [(p.value, p.label) for p in Platform]))
    service_account_id = SelectField(_l("Login"), default="")
    client_account_id = SelectField(_l("Client account"), default="")
    job_id = SelectField(_l("Job"), default="")
    state = SelectField(_l("Read"), default="",
                        choices=[("", _l("Read and unread")), ("unread", _l("Unread")),
                                 ("read", _l("Read"))])

    def __init__(self, formdata: Any, choices: FilterChoices, **kwargs: Any) -> None:
        super().__init__(formdata, **kwargs)
        self.service_account_id.choices = _any(_l("Any login"), choices.service_accounts)
        self.client_account_id.choices = _any(_l("Any client account"), choices.client_accounts)
        self.job_id.choices = _any(_l("Any job"), choices.jobs)

    def active(self) -> dict[str, str]:
        """The filters in use, for links that keep them (pagination)."""
        return {name: field.data for name, field in self._fields.items() if field.data}


class NotificationSnoozeForm(FlaskForm):
    """Silence this notification's type for its account or job for a while."""

    target = SelectField(_l("Silence it for"), validators=[InputRequired()])
    duration = SelectField(_l("For"), choices=SNOOZE_CHOICES, default="7d", validators=[InputRequired()])

    def __init__(self, targets: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target.choices = targets


class _MultiCheckbox(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class _ChannelForm(FlaskForm):
    is_enabled = BooleanField(_l("On"))
    min_level = SelectField(_l("Least important level sent"), choices=[
        ("error", _l("Errors only")), ("warning", _l("Warnings and errors")),
        ("suggestion", _l("Everything")),
    ], default="error", validators=[InputRequired()])
    categories = _MultiCheckbox(_l("Categories"), coerce=int, choices=CATEGORY_CHOICES,
                                description=_l("None ticked means every category."))


class EmailChannelForm(_ChannelForm):
    """The e-mail channel: on or off, what to send, immediately or in a daily digest."""

    email_mode = SelectField(_l("When"), choices=[
        (EmailMode.IMMEDIATE.value, _l("Immediately, one mail per notification")),
        (EmailMode.DIGEST.value, _l("Once a day, in a digest")),
    ], default=EmailMode.IMMEDIATE.value, validators=[InputRequired()])
    digest_hour = BoundedIntegerField(
        _l("Digest hour"), [InputRequired(message=_l("Give an hour from 0 to 23."))],
        bound=Bound(0, 23, "an hour"), default=8,
        description=_l("Hour of the day in your time zone when the digest is sent."),
    )


class SlackChannelForm(_ChannelForm):
    """The Slack channel: an incoming-webhook URL (never shown back) and what to send."""

    webhook_url = StringField(
        _l("Incoming-webhook URL"), [Optional()], widget=PasswordInput(hide_value=True),
        filters=[lambda v: v.strip() if isinstance(v, str) else v],
        render_kw={"autocomplete": "off", "maxlength": SLACK_URL_MAX},
        description=_l("https://hooks.slack.com/services/… — leave empty to keep the stored one."),
    )
