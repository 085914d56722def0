"""Custom alert rules (report type `alert_rules`): a list of rules evaluated on the statistics
store; the output is the table of hits, and each hit raises a "Custom rules" notification.

Only its parameters live here (the rule list, its form, the upgrade from version 1); the
evaluation is lib/alerts, the run (store refresh, table, notifications) alert_rules_run.py.

Version 1 stored a single rule in flat keys (`rule_name`, `metric`, `operator`, `threshold`,
`min_clicks`, …); version 2 stores `rules`, a list, each with its own conditions.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from wtforms import FieldList, Form, FormField, SelectField, StringField
from wtforms.validators import InputRequired, Length, ValidationError

from ppc_robot.lib.alerts.model import (
    CHANGES,
    COMPARISONS,
    LEVELS,
    METRICS,
    PERIODS,
    TARGET_WORSE,
    VOLUME_METRICS,
    describe_rule,
    rules_of,
)
from ppc_robot.lib.bounds import Bound, parse_decimal
from ppc_robot.lib.fields import BoundedDecimalField
from ppc_robot.lib.form_lists import FormData
from ppc_robot.lib.i18n import N_, translate
from ppc_robot.lib.reports.catalogue import Parameters, ReportParametersForm, ReportType

RULE_NAME_MAX = 80
RULES_MAX = 100
CONDITIONS_MAX = 10
NUMBER = Bound(Decimal("-999999999999.99"), Decimal("999999999999.99"), "a number")
RULE_KEYS = ("name", "level", "period", "min_metric", "min_value")
CONDITION_KEYS = ("metric", "comparison", "value")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class ChoiceField(SelectField):
    """A choice from a list, refused with a sentence that names what was sent."""

    def __init__(self, label: str | None = None, validators: Any = None, *,
                 refusal: str = "“{value}” is not one of the choices.", **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.refusal = refusal

    def pre_validate(self, form: Any) -> None:
        if self.data not in {value for value, _ in self.choices}:  # type: ignore[union-attr]
            raise ValidationError(self.refusal.format(value=str(self.data)[:40]))


class ConditionForm(Form):
    """One condition of a rule: metric, comparison, value."""

    metric = ChoiceField("Metric", choices=list((k, v[0]) for k, v in METRICS.items()),
                         default="cpa",
                         refusal="There is no metric “{value}”; choose one from the list.")
    comparison = ChoiceField("Comparison", choices=list(COMPARISONS.items()), default="gt",
                             refusal="There is no comparison “{value}”; choose one from the list.")
    value = BoundedDecimalField("Value", bound=NUMBER, places=None,
                                description="Money in the account's currency, CTR, PNO and "
                                            "conversion rate in %, ROAS as a ratio (4 = 400 %).")

    def validate_comparison(self, field: Any) -> None:
        if field.data == "worse_than_target" and self.metric.data not in TARGET_WORSE:
            raise ValidationError("Clients set targets for CPA, ROAS and PNO only; choose one "
                                  "of them or another comparison.")

    def validate_value(self, field: Any) -> None:
        comparison = self.comparison.data
        if comparison == "worse_than_target" or field.process_errors:
            return
        is_change = comparison in CHANGES
        if field.data is None:
            raise ValidationError("Give the percentage of the change." if is_change
                                  else "Give the threshold.")
        if field.data < 0:
            if comparison.startswith("either"):
                raise ValidationError("A percentage cannot be negative: “up or down” takes both ways.")
            raise ValidationError("A percentage cannot be negative: choose “down” for a fall."
                                  if is_change else
                                  "A threshold cannot be negative: every metric is zero or more.")


class ConditionList(FieldList):
    """The conditions of a rule, at least one."""

    def validate(self, form: Any, extra_validators: Any = ()) -> bool:
        valid = super().validate(form, extra_validators)
        if not self.entries:
            self.errors = ["Give the rule at least one condition."]
            return False
        return valid


class RuleForm(Form):
    """One rule: name, level, period, minimum volume, conditions (all must hold)."""

    name = StringField("Rule name", [InputRequired("Name the rule."), Length(max=RULE_NAME_MAX)],
                       filters=[_strip], description="Names the rule in notifications.")
    level = ChoiceField("Level", choices=list(LEVELS.items()), default="account",
                        refusal="A rule looks at client accounts or campaigns, not “{value}”.")
    period = ChoiceField(
        "Period", choices=[(k, v.capitalize()) for k, v in PERIODS.items()], default="yesterday",
        refusal="The statistics store cannot serve the period “{value}”: choose yesterday, "
                "the last 7, 14 or 30 days or month to date.")
    min_metric = ChoiceField("Only with at least", choices=[("", N_("no minimum volume"))] + [
        (k, METRICS[k][0].lower()) for k in VOLUME_METRICS], default="",
        refusal="A minimum volume counts clicks, impressions, cost or conversions, "
                "not “{value}”.")
    min_value = BoundedDecimalField("Minimum volume", bound=NUMBER, places=None,
                                    description="Such as 100 (clicks); cost in the account's "
                                                "currency.")
    conditions = ConditionList(FormField(ConditionForm), "Conditions (all must hold)",
                               min_entries=1, max_entries=CONDITIONS_MAX,
                               description="condition")

    def validate_min_value(self, field: Any) -> None:
        if field.process_errors:
            return
        if self.min_metric.data and field.data is None:
            raise ValidationError("Give the minimum volume, or choose no minimum.")
        if field.data is not None and not self.min_metric.data:
            raise ValidationError("Choose what the minimum volume counts.")
        if field.data is not None and field.data < 0:
            raise ValidationError("A minimum volume cannot be negative.")


class RuleList(FieldList):
    """The job's rules, at least one, each name once."""

    def validate(self, form: Any, extra_validators: Any = ()) -> bool:
        super().validate(form, extra_validators)
        seen: set[str] = set()
        for entry in self.entries:
            name = (entry.form.name.data or "").casefold()
            if name and name in seen:
                entry.form.name.errors.append("Another rule has this name; give each its own.")
            seen.add(name)
        self.errors = [entry.errors for entry in self.entries]
        if not self.entries:
            self.errors = ["Add at least one rule."]
        elif not any(self.errors):
            self.errors = []
        return not self.errors


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _number(value: Any) -> Decimal | None:
    return parse_decimal(str(value)) if value not in (None, "") else None


class AlertRulesParametersForm(ReportParametersForm):
    """Parameters of the custom alert rules: the list of rules."""

    rules = RuleList(FormField(RuleForm), "Rules", min_entries=1, max_entries=RULES_MAX,
                     description="rule")

    def parameters(self) -> Parameters:
        rules = []
        for entry in self.rules:
            rule = entry.form
            rules.append({
                "name": rule.name.data, "level": rule.level.data, "period": rule.period.data,
                "min_metric": rule.min_metric.data or "",
                "min_value": _text(rule.min_value.data) if rule.min_metric.data else None,
                "conditions": [{
                    "metric": c.form.metric.data, "comparison": c.form.comparison.data,
                    "value": (None if c.form.comparison.data == "worse_than_target"
                              else _text(c.form.value.data))} for c in rule.conditions]})
        return {"rules": rules}

    @classmethod
    def formdata_of(cls, parameters: Mapping[str, Any]) -> FormData:  # type: ignore[override]
        data = FormData()
        rules = parameters.get("rules")
        for i, rule in enumerate(rules if isinstance(rules, list) else []):
            if not isinstance(rule, Mapping):
                rule = {}
            for key in RULE_KEYS:
                if rule.get(key) is not None:
                    data[f"rules-{i}-{key}"] = [str(rule[key])]
            conditions = rule.get("conditions")
            if not isinstance(conditions, list) or not conditions:
                data.setdefault(f"rules-{i}-name", [str(rule.get("name") or "")])
                continue
            for j, condition in enumerate(conditions):
                if not isinstance(condition, Mapping):
                    condition = {}
                data[f"rules-{i}-conditions-{j}-metric"] = [str(condition.get("metric") or "")]
                for key in CONDITION_KEYS[1:]:
                    if condition.get(key) is not None:
                        data[f"rules-{i}-conditions-{j}-{key}"] = [str(condition[key])]
        return data

    @classmethod
    def objects_of(cls, parameters: Mapping[str, Any]) -> Parameters:
        rules = []
        for rule in parameters.get("rules") or []:
            rules.append({**{k: rule.get(k) for k in RULE_KEYS},
                          "min_metric": rule.get("min_metric") or "",
                          "min_value": _number(rule.get("min_value")),
                          "conditions": [{"metric": c.get("metric"),
                                          "comparison": c.get("comparison"),
                                          "value": _number(c.get("value"))}
                                         for c in rule.get("conditions") or []]})
        return {"rules": rules}


def default_parameters() -> Parameters:
    return {"rules": [{
        "name": "CPA above the client's target", "level": "account", "period": "last_7_days",
        "min_metric": "clicks", "min_value": "100",
        "conditions": [{"metric": "cpa", "comparison": "worse_than_target", "value": None}]}]}


V1_OPERATORS = {">": "gt", ">=": "ge", "<": "lt", "<=": "le"}


def upgrade_v1(parameters: Parameters) -> Parameters:
    """Version 1's single rule (flat keys, operators as symbols, a minimum of clicks) as
    version 2's list of one rule (parameters already holding `rules` are kept as they are)."""
    if "rules" in parameters:
        return dict(parameters)
    min_clicks = parameters.get("min_clicks")
    rule = {
        "name": parameters.get("rule_name") or "Rule",
        "level": parameters.get("level") or "account",
        "period": parameters.get("period") or "yesterday",
        "min_metric": "clicks" if min_clicks not in (None, "", 0) else "",
        "min_value": str(min_clicks) if min_clicks not in (None, "", 0) else None,
        "conditions": [{
            "metric": parameters.get("metric"),
            "comparison": V1_OPERATORS.get(str(parameters.get("operator")),
                                           str(parameters.get("operator"))),
            "value": None if parameters.get("threshold") is None
            else str(parameters["threshold"])}],
    }
    return {"rules": [rule]}


def describe_rules(parameters: Parameters, locale: str | None = None) -> list[tuple[str, str]]:
    """Each rule in words, for the job page: ("Rule 1", "High CPA — Campaign, yesterday: …")."""
    rule_label = translate(N_("Rule %(number)s"), locale)
    return [(rule_label % {"number": n}, f"{rule.name} — {describe_rule(rule, locale)}")
            for n, rule in enumerate(rules_of(parameters), start=1)]


ALERT_RULES = ReportType(
    name="alert_rules",
    label="Custom alert rules",
    version=2,
    form_class=AlertRulesParametersForm,
    description="Rules on the stored statistics of your client accounts or their campaigns "
                "(such as CPA above 300 yesterday with at least 100 clicks); each hit is a "
                "notification and a row of the table.",
    default_parameters=default_parameters,
    upgrades={1: upgrade_v1},
    in_words=describe_rules,
)
