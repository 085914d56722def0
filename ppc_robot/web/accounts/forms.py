"""Forms of the accounts area."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, RadioField, SelectField
from wtforms.validators import InputRequired, Length, Optional

from ppc_robot.lib.fields import IdCheckboxesField, IdField
from ppc_robot.lib.models import (
    Client,
    ClientAccount,
    ClientAccountStatus,
    ClientAccountTag,
    Platform,
    ServiceAccount,
)


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class SklikLinkForm(FlaskForm):
    """Link (or re-authorise) a Sklik login with its API token."""

    token = PasswordField(
        _l("API token"),
        [InputRequired(message=_l("Paste the API token from Sklik.")), Length(max=500)],
        description=_l("Sklik → account settings → API. It is stored encrypted and never shown again."),
    )


class UnlinkForm(FlaskForm):
    """Unlink a login; its client accounts are kept as history or removed."""

    client_accounts = RadioField(
        _l("Its client accounts"),
        choices=[("keep", _l("Keep them as history (reports can still show them)")),
                 ("remove", _l("Remove them (those still used by jobs are only marked removed)"))],
        default="keep", validators=[InputRequired()],
    )


class ClientAccountFilterForm(FlaskForm):
    """The filters of the client-account list (a GET form, no CSRF)."""

    class Meta:
        csrf = False

    # Blank (a space, a tab) is "any", as an empty value is.
    platform = SelectField(_l("Platform"), validators=[Optional()], filters=[_strip])
    service_account_id = SelectField(_l("Login"), validators=[Optional()], filters=[_strip])
    tag_id = SelectField(_l("Tag"), validators=[Optional()], filters=[_strip])
    status = SelectField(_l("Status"), validators=[Optional()], filters=[_strip])
    client_id = SelectField(_l("Client"), validators=[Optional()], filters=[_strip])

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

    client_account_ids = IdCheckboxesField(_l("Client accounts"), validate_choice=False)
    tag_id = IdField(_l("Tag"), validators=[InputRequired()])
    action = SelectField(_l("Action"), choices=[("add", "Add tag"), ("remove", "Remove tag")],
                         validators=[InputRequired()])

    def __init__(self, accounts: Sequence[ClientAccount], tags: Sequence[ClientAccountTag],
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client_account_ids.choices = [(a.id, a.name) for a in accounts]
        self.tag_id.choices = [(t.id, t.name) for t in tags]


class ClientAccountForm(FlaskForm):
    """The tags and the client of one client account."""

    tag_ids = IdCheckboxesField(_l("Tags"))
    client_id = IdField(_l("Client"))

    def __init__(self, tags: Sequence[ClientAccountTag], clients: Sequence[Client],
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tag_ids.choices = [(t.id, t.name) for t in tags]
        self.client_id.choices = [(0, "No client")] + [(c.id, c.name) for c in clients]
