"""Forms of the public auth pages."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import InputRequired, Length

from ppc_robot.lib.models.users import EMAIL_MAX
from ppc_robot.lib.passwords import PASSWORD_MAX


class LoginForm(FlaskForm):
    """E-mail and password."""

    email = EmailField("E-mail", [InputRequired(), Length(max=EMAIL_MAX)])
    password = PasswordField("Password", [InputRequired(), Length(max=PASSWORD_MAX)])
