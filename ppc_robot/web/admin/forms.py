"""Forms of the admin area."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, EmailField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from ppc_robot.lib.bounds import INTERVAL_MINUTES, PLAN_LIMIT
from ppc_robot.lib.fields import BoundedIntegerField, IdField
from ppc_robot.lib.models.users import EMAIL_MAX
from ppc_robot.web.models import Plan, SubscriptionStatus
from ppc_robot.web.signup.forms import strip_whitespace

PLAN_NAME_MAX = 64


class PlanForm(FlaskForm):
    """A plan's name and limits; an empty maximum means unlimited."""

    name = StringField(_l("Name"), [InputRequired(), Length(max=PLAN_NAME_MAX)],
                       filters=[strip_whitespace])
    max_jobs = BoundedIntegerField(_l("Maximum jobs"), [Optional()], bound=PLAN_LIMIT,
                                   description=_l("Empty: unlimited."))
    max_client_accounts = BoundedIntegerField(_l("Maximum linked client accounts"), [Optional()],
                                              bound=PLAN_LIMIT, description=_l("Empty: unlimited."))
    min_schedule_interval_minutes = BoundedIntegerField(
        _l("Shortest schedule interval (minutes)"), [InputRequired()], bound=INTERVAL_MINUTES,
        default=60,
    )
    allows_slack = BooleanField(_l("Slack notifications allowed"), default=True)
    max_invites = BoundedIntegerField(_l("Invites a user may send"), [InputRequired()],
                                      bound=PLAN_LIMIT, default=0)
    is_default = BooleanField(_l("Default plan for new users"))


class UserPlanForm(FlaskForm):
    """Put a user on a plan (there is no payment processor)."""

    plan_id = IdField(_l("Plan"), validators=[InputRequired()])
    status = SelectField(_l("Status"), choices=[(s.value, s.value.replace("_", " "))
                                            for s in SubscriptionStatus],
                         default=SubscriptionStatus.ACTIVE.value)
    period_end = DateField(_l("Period ends"), [Optional()], description=_l("Empty: open-ended."))

    def __init__(self, plans: Sequence[Plan], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan_id.choices = [(plan.id, plan.name) for plan in plans]


class AdminInviteForm(FlaskForm):
    """Invite an address, optionally onto a plan."""

    email = EmailField(_l("E-mail"), [InputRequired(), Length(max=EMAIL_MAX)],
                       filters=[strip_whitespace])
    plan_id = IdField(_l("Plan"), default=0,
                          description=_l("The trial runs on this plan."))

    def __init__(self, plans: Sequence[Plan], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan_id.choices = [(0, "The default plan")] + [(p.id, p.name) for p in plans]


class ConfirmForm(FlaskForm):
    """Only the button of a small POST form."""
