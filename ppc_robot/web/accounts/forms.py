"""Forms of the accounts area."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, SelectField, SelectMultipleField
from wtforms.validators import InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ppc_robot.lib.models import (
    Client,
    ClientAccount,
    ClientAccountStatus,
    ClientAccountTag,
    Platform,
    ServiceAccount,
)


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SklikLinkForm(FlaskForm):
    """Link (or re-authorise) a Sklik login with its API token."""

    token = PasswordField(
        "API token",
        [InputRequired(message="Paste the API token from Sklik."), Length(max=500)],
        description="Sklik → account settings → API. It is stored encrypted and never shown again.",
    )


class UnlinkForm(FlaskForm):
    """Unlink a login; its client accounts are kept as history or removed."""

    client_accounts = RadioField(
        "Its client accounts",
        choices=[("keep", "Keep them as history (reports can still show them)"),
                 ("remove", "Remove them (those still used by jobs are only marked removed)")],
        default="keep", validators=[InputRequired()],
    )


class ClientAccountFilterForm(FlaskForm):
    """The filters of the client-account list (a GET form, no CSRF)."""

    class Meta:
        csrf = False

    platform = SelectField("Platform", validators=[Optional()])
    service_account_id = SelectField("Login", validators=[Optional()])
    tag_id = SelectField("Tag", validators=[Optional()])
    status = SelectField("Status", validators=[Optional()])
    client_id = SelectField("Client", validators=[Optional()])

    def __init__(self, logins: Sequence[ServiceAccount], tags: Sequence[ClientAccountTag],
                 clients: Sequence[Client], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        anything = [("", "Any")]
        self.platform.choices = anything + [(p.value, p.label) for p in Platform]
        self.service_account_id.choices = anything + [(str(s.id), s.name) for s in logins]
        self.tag_id.choices = anything + [(str(t.id), t.name) for t in tags]
        self.status.choices = anything + [(s.value, s.value) for s in ClientAccountStatus]
        self.client_id.choices = anything + [(str(c.id), c.name) for c in clients]


class BulkTagForm(FlaskForm):
    """Add a tag to, or take it off, the ticked client accounts."""

    client_account_ids = CheckboxesField("Client accounts", coerce=int, validate_choice=False)
    tag_id = SelectField("Tag", coerce=int, validators=[InputRequired()])
    action = SelectField("Action", choices=[("add", "Add tag"), ("remove", "Remove tag")],
                         validators=[InputRequired()])

    def __init__(self, accounts: Sequence[ClientAccount], tags: Sequence[ClientAccountTag],
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client_account_ids.choices = [(a.id, a.name) for a in accounts]
        self.tag_id.choices = [(t.id, t.name) for t in tags]


class ClientAccountForm(FlaskForm):
    """The tags and the client of one client account."""

    tag_ids = CheckboxesField("Tags", coerce=int)
    client_id = SelectField("Client", coerce=int)

    def __init__(self, tags: Sequence[ClientAccountTag], clients: Sequence[Client],
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tag_ids.choices = [(t.id, t.name) for t in tags]
        self.client_id.choices = [(0, "No client")] + [(c.id, c.name) for c in clients]
