"""Alerts over the statistics store: custom rules, anomalies, numbers that moved after delivery."""
