"""Forms of the public auth pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import EqualTo, InputRequired, Length

from ppc_robot.lib.models.users import EMAIL_MAX
from ppc_robot.lib.passwords import PASSWORD_MAX


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField(_l("E-mail"), [InputRequired(), Length(max=EMAIL_MAX)])
    password = PasswordField(_l("Password"), [InputRequired(), Length(max=PASSWORD_MAX)])


class PasswordForgotForm(FlaskForm):
    """The address to send a reset link to."""

    email = EmailField(_l("E-mail"), [InputRequired(), Length(max=EMAIL_MAX)])


class PasswordResetForm(FlaskForm):
    """A new password, twice."""

    password = PasswordField(_l("New password"), [InputRequired(), Length(max=PASSWORD_MAX)],
                             description=_l("At least 12 characters."))
    confirm = PasswordField(_l("Repeat the new password"),
                            [InputRequired(), EqualTo(_l("password"), _l("The passwords differ."))])


class EmailConfirmForm(FlaskForm):
    """Only the button: confirming the new address is a POST."""
