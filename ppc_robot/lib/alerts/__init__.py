"""Alerts over the statistics store: custom rules (rules.py, its model and store reads),
anomalies, numbers that moved after delivery."""

from ppc_robot.lib.alerts.model import Condition, Rule, rules_of
from ppc_robot.lib.alerts.rules import Finding, Hit, describe_hit, evaluate_rules, hit_text
from ppc_robot.lib.alerts.store import AlertAccount, Sums, Targets, read_accounts

__all__ = [
    "AlertAccount",
    "Condition",
    "Finding",
    "Hit",
    "Rule",
    "Sums",
    "Targets",
    "describe_hit",
    "hit_text",
    "evaluate_rules",
    "read_accounts",
    "rules_of",
]
