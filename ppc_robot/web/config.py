"""Settings from environment variables, with safe development defaults."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from ppc_robot.lib.credentials import generate_key

PASSED_THROUGH = ("PPC_ROBOT_", "SMTP_", "MAIL_", "CELERY_")


def _secret_from_file(path: Path, make: Any) -> str:
    """Read a secret kept in the instance folder, creating it (readable by us only) once."""
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    return value


def _membership_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """Sign-up, invites, trials, rate limits (ppc_robot.web.ratelimits) and mail (lib.mail)."""
    settings: dict[str, Any] = {
        "PPC_ROBOT_OPEN_REGISTRATION": env.get("PPC_ROBOT_OPEN_REGISTRATION", "") == "1",
        "PPC_ROBOT_INVITE_TTL_DAYS": int(env.get("PPC_ROBOT_INVITE_TTL_DAYS", "7")),
        "PPC_ROBOT_TRIAL_DAYS": int(env.get("PPC_ROBOT_TRIAL_DAYS", "14")),
    }
    if env.get("RATELIMIT_STORAGE_URI"):
        settings["RATELIMIT_STORAGE_URI"] = env["RATELIMIT_STORAGE_URI"]
    for key in ("SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_STARTTLS",
                "SMTP_SSL", "SMTP_TIMEOUT", "MAIL_FROM", "MAIL_OUTBOX"):
        if env.get(key):
            settings[key] = env[key]
    return settings


def load_config(instance_path: Path, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The app's settings: environment first, then `overrides` (tests), secrets last."""
    env = os.environ
    overrides = dict(overrides or {})
    instance_path.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "SQLALCHEMY_DATABASE_URI": env.get(
            "DATABASE_URL", f"sqlite:///{instance_path / 'ppc_robot.sqlite3'}"
        ),
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "BOOTSTRAP_SERVE_LOCAL": True,
        "BOOTSTRAP_BTN_STYLE": "primary",
        "WTF_CSRF_TIME_LIMIT": 12 * 3600,
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=12),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env.get("PPC_ROBOT_SECURE_COOKIES", "") == "1",
        "REMEMBER_COOKIE_SECURE": env.get("PPC_ROBOT_SECURE_COOKIES", "") == "1",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "MAX_FORM_PARTS": 2000,
        "PPC_ROBOT_BASE_URL": env.get("PPC_ROBOT_BASE_URL", "http://127.0.0.1:5000"),
        "PPC_ROBOT_PAGE_SIZE": 50,
        "PPC_ROBOT_QUEUE": "embedded",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        **_membership_settings(env),
    }
    # Settings of the worker, mail and queue pass through as they are (PPC_ROBOT_LEASE_SECONDS …).
    for key, value in env.items():
        if key.startswith(PASSED_THROUGH) and key not in config:
            config[key] = value
    # Mail and notification delivery (see README); the Slack hosts are server-side only.
    for key in ("SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_STARTTLS", "SMTP_SSL",
                "MAIL_FROM", "SLACK_WEBHOOK_HOSTS", "SLACK_WEBHOOK_BASE_URL",
                "NOTIFICATION_MAX_ATTEMPTS", "NOTIFICATION_BACKOFF_SECONDS"):
        if key in env:
            config[key] = env[key]
    if "SECRET_KEY" in env:
        config["SECRET_KEY"] = env["SECRET_KEY"]
    if "PPC_ROBOT_CREDENTIALS_KEY" in env:
        config["PPC_ROBOT_CREDENTIALS_KEY"] = env["PPC_ROBOT_CREDENTIALS_KEY"]
    config.update(overrides)
    if "DATABASE_URL" in overrides:
        config["SQLALCHEMY_DATABASE_URI"] = overrides["DATABASE_URL"]
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _secret_from_file(
            instance_path / "secret_key", lambda: secrets.token_urlsafe(48)
        )
    if not config.get("PPC_ROBOT_CREDENTIALS_KEY"):
        config["PPC_ROBOT_CREDENTIALS_KEY"] = _secret_from_file(
            instance_path / "credentials.key", generate_key
        )
    return config
