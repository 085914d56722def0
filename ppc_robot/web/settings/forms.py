"""Forms of the user's own settings."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from ppc_robot.lib.models.users import EMAIL_MAX, NAME_MAX
from ppc_robot.lib.passwords import PASSWORD_MAX
from ppc_robot.web.i18n import LANGUAGE_NAMES
from ppc_robot.web.membership.accounts import time_zones
from ppc_robot.web.signup.forms import strip_whitespace


class ProfileForm(FlaskForm):
    """Name, time zone and interface language."""

    name = StringField(_l("Name"), [Length(max=NAME_MAX)], filters=[strip_whitespace])
    time_zone = SelectField(_l("Time zone"), validators=[InputRequired()],
                            description=_l("Times are shown in this zone."))
    locale = SelectField(_l("Language"), coerce=lambda value: value or None,
                         description=_l("The language of pages and e-mails."))

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.time_zone.choices = time_zones()
        self.locale.choices = [("", _l("The browser's language")),
                               *LANGUAGE_NAMES.items()]


class PasswordChangeForm(FlaskForm):
    """The current password and a new one, twice."""

    current = PasswordField(_l("Current password"), [InputRequired(), Length(max=PASSWORD_MAX)])
    password = PasswordField(_l("New password"), [InputRequired(), Length(max=PASSWORD_MAX)],
                             description=_l("At least 12 characters. Your other sessions end."))
    confirm = PasswordField(_l("Repeat the new password"),
                            [InputRequired(), EqualTo(_l("password"), _l("The passwords differ."))])


class EmailChangeForm(FlaskForm):
    """A new address, confirmed by the current password."""

    email = EmailField(_l("New e-mail"), [InputRequired(), Length(max=EMAIL_MAX)],
                       filters=[strip_whitespace],
                       description=_l("We send a link there; the address changes once you open it."))
    password = PasswordField(_l("Current password"), [InputRequired(), Length(max=PASSWORD_MAX)])


class InviteForm(FlaskForm):
    """An address to invite."""

    email = EmailField(_l("E-mail to invite"), [InputRequired(), Length(max=EMAIL_MAX)],
                       filters=[strip_whitespace])


class ConfirmForm(FlaskForm):
    """Only the button of a small POST form."""
