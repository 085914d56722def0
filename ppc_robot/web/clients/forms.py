"""Forms of the clients area."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from ppc_robot.lib.bounds import PERCENT, PNO, ROAS
from ppc_robot.lib.fields import BoundedDecimalField, IdCheckboxesField, MoneyField
from ppc_robot.lib.models import Client, ClientAccount
from ppc_robot.lib.models.accounts import ACCOUNT_NAME_MAX


def _strip(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class ClientForm(FlaskForm):
    """Create or edit a client: its name, goals and client accounts."""

    name = StringField(_l("Name"), [InputRequired(message=_l("Give the client a name.")),
                                Length(max=ACCOUNT_NAME_MAX)], filters=[_strip])
    currency = StringField(_l("Currency"), [InputRequired(), Regexp(r"^[A-Za-z]{3}$",
                           message=_l("Use a three-letter code such as CZK or EUR."))],
                           filters=[_strip], default="EUR")
    monthly_budget = MoneyField(_l("Monthly budget"), [Optional()],
                                description=_l("In the client's currency; budget pacing reads it."))
    target_cpa = MoneyField(_l("Target CPA"), [Optional()],
                            description=_l("Cost per conversion, in the client's currency."))
    target_roas = BoundedDecimalField(_l("Target ROAS"), [Optional()], bound=ROAS, places=4,
                                      description=_l("Conversion value ÷ cost, e.g. 4.5."))
    target_pno = BoundedDecimalField(_l("Target PNO"), [Optional()], bound=PNO, places=4,
                                     description=_l("Cost ÷ conversion value, e.g. 0.15 for 15 %."))
    pacing_tolerance = BoundedDecimalField(
        _l("Pacing tolerance (%)"), [Optional()], bound=PERCENT, places=2, default=10,
        description=_l("How far month-to-date spend may stray from the pro-rated budget before "
                    "pacing shows amber or red and notifies, e.g. 10."))
    client_account_ids = IdCheckboxesField(
        _l("Client accounts"),
        description=_l("An account of another client moves to this one when you save."))

    def __init__(self, accounts: Sequence[ClientAccount], client: Client, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # An account belongs to one client at most: saving takes it from the one named here.
        self.client_account_ids.choices = [
            (a.id, f"{a.name} ({a.service_account.platform.label}, {a.currency})"
                   + (f" — now in client “{a.client.name}”"
                      if a.client is not None and a.client_id != client.id else ""))
            for a in accounts]
