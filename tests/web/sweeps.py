"""Sweeps over Flask's URL map: ownership (404 for another user's objects) and CSRF.

Each returns a list of violations, so a test can assert it is empty and a meta-test can show
that a deliberately careless route is caught.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule

from tests.conftest import csrf_token_from

# Endpoints that take no object id or address rows by token; nothing else is exempt.
PUBLIC_ENDPOINTS = {"static", "auth.login", "auth.logout", "bootstrap.static",
                    "auth.forgot", "auth.reset_link", "auth.reset", "auth.email_link",
                    "auth.email_confirm", "signup.invite_link", "signup.form",
                    "help.notifications", "help.notification_type", "downloads.link",
                    "demo_site.home", "demo_site.page"}


# Pages that are 404 for their owner too while the object lacks something (a run without a
# file); each has a test of its own with the missing piece in place.
OWNER_MAY_404 = {"runs.download"}


def _rules(app: Flask) -> Iterable[Rule]:
    return sorted(app.url_map.iter_rules(), key=lambda r: r.rule)


def _id_arguments(rule: Rule) -> list[str]:
    return sorted(arg for arg in rule.arguments if arg.endswith("_id"))


def undeclared_arguments(app: Flask, known_ids: set[str]) -> list[str]:
    """Rules whose arguments the sweeps cannot fill: an unknown kind of id, or a non-id."""
    problems = []
    for rule in _rules(app):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for arg in rule.arguments:
            if arg not in known_ids:
                problems.append(f"{rule.rule}: argument <{arg}> is unknown to the sweep")
    return problems


def _page_token(client: FlaskClient) -> str:
    page = client.get("/")
    return csrf_token_from(page.text)


# Ids no row has: negative, past the 32-bit keys, past 64 bits (SQLite's OverflowError).
IMPOSSIBLE_IDS = ("-1", "2147483648", "9223372036854775808", "99999999999999999999")


def _with_ids(rule: Rule, ids: list[str], value: Any) -> str:
    """The rule's address with every id argument set to `value`, written as it is."""
    marked = rule.build({arg: 1_000_000_007 + n for n, arg in enumerate(ids)},
                        append_unknown=False)[1]
    for n in range(len(ids)):
        marked = marked.replace(str(1_000_000_007 + n), str(value))
    return marked


def ownership_violations(
    app: Flask, client: FlaskClient, their_ids: dict[str, int], my_ids: dict[str, int]
) -> list[str]:
    """Every object route, as the logged-in user, with the other user's ids: all must be 404.

    So must the same route with ids no row can have (negative, too large for any key).
    With his own ids the same GET must not be 404, so a route that always 404s proves nothing.
    """
    violations = []
    token = _page_token(client)
    for rule in _rules(app):
        ids = _id_arguments(rule)
        if not ids or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        if any(arg not in their_ids for arg in ids):
            continue  # reported by undeclared_arguments
        theirs = rule.build({arg: their_ids[arg] for arg in ids}, append_unknown=False)[1]
        mine = rule.build({arg: my_ids[arg] for arg in ids}, append_unknown=False)[1]
        impossible = [_with_ids(rule, ids, value) for value in IMPOSSIBLE_IDS]
        for method in sorted(rule.methods & {"GET", "POST"}):
            data: dict[str, Any] = {"csrf_token": token} if method == "POST" else {}
            for url in (theirs, *impossible):
                response = client.open(url, method=method, data=data)
                if response.status_code != 404:
                    violations.append(f"{method} {url} answered {response.status_code}, not 404")
        if "GET" in rule.methods and not rule.endpoint.startswith("admin."):
            own = client.get(mine)
            if own.status_code == 404 and rule.endpoint not in OWNER_MAY_404:
                violations.append(f"GET {mine} is 404 for its owner too: the sweep proves nothing")
    return violations


def csrf_violations(app: Flask, client: FlaskClient, my_ids: dict[str, int]) -> list[str]:
    """Every POST route, with the user's own ids and no CSRF token: all must be 400."""
    violations = []
    for rule in _rules(app):
        if "POST" not in rule.methods or rule.endpoint == "static":
            continue
        if any(arg not in my_ids for arg in rule.arguments):
            continue  # reported by undeclared_arguments
        url = rule.build({arg: my_ids[arg] for arg in rule.arguments}, append_unknown=False)[1]
        for data in ({}, {"csrf_token": "forged"}):
            response = client.post(url, data=data)
            if response.status_code != 400:
                violations.append(
                    f"POST {url} with token {data.get('csrf_token')!r} answered "
                    f"{response.status_code}, not 400"
                )
    return violations


def anonymous_violations(app: Flask, client: FlaskClient, my_ids: dict[str, int]) -> list[str]:
    """Every private GET page, without logging in: all must send the visitor to log in."""
    violations = []
    for rule in _rules(app):
        if "GET" not in rule.methods or rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        if any(arg not in my_ids for arg in rule.arguments):
            continue
        url = rule.build({arg: my_ids[arg] for arg in rule.arguments}, append_unknown=False)[1]
        response = client.get(url)
        expected_admin = rule.endpoint.startswith("admin.") and response.status_code == 404
        goes_to_login = response.status_code == 302 and "/login" in response.headers["Location"]
        if not (goes_to_login or expected_admin):
            violations.append(f"GET {url} answered {response.status_code} to an anonymous visitor")
    return violations
