"""Forms of the clients area."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_wtf import FlaskForm
from wtforms import DecimalField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

from ppc_robot.lib.models import Client, ClientAccount
from ppc_robot.lib.models.accounts import ACCOUNT_NAME_MAX
from ppc_robot.web.accounts.forms import CheckboxesField


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class ClientForm(FlaskForm):
    """Create or edit a client: its name, goals and client accounts."""

    name = StringField("Name", [InputRequired(message="Give the client a name."),
                                Length(max=ACCOUNT_NAME_MAX)], filters=[_strip])
    currency = StringField("Currency", [InputRequired(), Regexp(r"^[A-Za-z]{3}$",
                           message="Use a three-letter code such as CZK or EUR.")],
                           filters=[_strip], default="EUR")
    monthly_budget = DecimalField("Monthly budget", [Optional(), NumberRange(min=0)], places=2,
                                  description="In the client's currency; budget pacing reads it.")
    target_cpa = DecimalField("Target CPA", [Optional(), NumberRange(min=0)], places=2,
                              description="Cost per conversion, in the client's currency.")
    target_roas = DecimalField("Target ROAS", [Optional(), NumberRange(min=0, max=100000)],
                               places=4, description="Conversion value ÷ cost, e.g. 4.5.")
    target_pno = DecimalField("Target PNO", [Optional(), NumberRange(min=0, max=100000)],
                              places=4, description="Cost ÷ conversion value, e.g. 0.15 for 15 %.")
    client_account_ids = CheckboxesField(
        "Client accounts", coerce=int,
        description="An account of another client moves to this one when you save.")

    def __init__(self, accounts: Sequence[ClientAccount], client: Client, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # An account belongs to one client at most: saving takes it from the one named here.
        self.client_account_ids.choices = [
            (a.id, f"{a.name} ({a.service_account.platform.label}, {a.currency})"
                   + (f" — now in client “{a.client.name}”"
                      if a.client is not None and a.client_id != client.id else ""))
            for a in accounts]
