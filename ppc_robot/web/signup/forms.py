"""The sign-up form (public)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import EqualTo, InputRequired, Length

from ppc_robot.lib.models.users import EMAIL_MAX, NAME_MAX
from ppc_robot.lib.passwords import PASSWORD_MAX
from ppc_robot.web.membership.accounts import time_zones


def strip_whitespace(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class SignupForm(FlaskForm):
    """A new account; with an invite the address is the invite's and cannot be edited."""

    email = EmailField(_l("E-mail"), [InputRequired(), Length(max=EMAIL_MAX)],
                       filters=[strip_whitespace])
    name = StringField(_l("Your name"), [Length(max=NAME_MAX)], filters=[strip_whitespace])
    time_zone = SelectField(_l("Time zone"), default="UTC", validators=[InputRequired()])
    password = PasswordField(_l("Password"), [InputRequired(), Length(max=PASSWORD_MAX)],
                             description=_l("At least 12 characters."))
    confirm = PasswordField(_l("Repeat the password"),
                            [InputRequired(), EqualTo(_l("password"), _l("The passwords differ."))])

    def __init__(self, invited_email: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.time_zone.choices = time_zones()
        if not self.is_submitted():
            # static/js/time-zone.js picks the browser's zone until the user has chosen one.
            self.time_zone.render_kw = {"data-browser-time-zone": ""}
        if invited_email is not None:
            # The address comes from the invite row; what the browser sends back is ignored.
            self.email.data = invited_email
            self.email.validators = []
            self.email.render_kw = {"readonly": True}
