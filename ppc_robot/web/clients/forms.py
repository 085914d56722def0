"""Forms of the clients area."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from ppc_robot.lib.bounds import PNO, ROAS
from ppc_robot.lib.fields import BoundedDecimalField, IdCheckboxesField, MoneyField
from ppc_robot.lib.models import ClientAccount
from ppc_robot.lib.models.accounts import ACCOUNT_NAME_MAX


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class ClientForm(FlaskForm):
    """Create or edit a client: its name, goals and client accounts."""

    name = StringField("Name", [InputRequired(message="Give the client a name."),
                                Length(max=ACCOUNT_NAME_MAX)], filters=[_strip])
    currency = StringField("Currency", [InputRequired(), Regexp(r"^[A-Za-z]{3}$",
                           message="Use a three-letter code such as CZK or EUR.")],
                           filters=[_strip], default="EUR")
    monthly_budget = MoneyField("Monthly budget", [Optional()],
                                description="In the client's currency; budget pacing reads it.")
    target_cpa = MoneyField("Target CPA", [Optional()],
                            description="Cost per conversion, in the client's currency.")
    target_roas = BoundedDecimalField("Target ROAS", [Optional()], bound=ROAS, places=4,
                                      description="Conversion value ÷ cost, e.g. 4.5.")
    target_pno = BoundedDecimalField("Target PNO", [Optional()], bound=PNO, places=4,
                                     description="Cost ÷ conversion value, e.g. 0.15 for 15 %.")
    client_account_ids = IdCheckboxesField("Client accounts")

    def __init__(self, accounts: Sequence[ClientAccount], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client_account_ids.choices = [
            (a.id, f"{a.name} ({a.service_account.platform.label}, {a.currency})")
            for a in accounts]
