"""Template helpers: remembered addresses and times in the user's zone."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import url_for

from ppc_robot.web.filters import localtime, template_url_for


def test_remembered_addresses_match_url_for_wherever_the_app_is_mounted(app):
    cases = [("folders.show", {"folder_id": 7}), ("static", {"filename": "css/app.css"}),
             ("folders.search", {"q": "a b&c", "page": 2}), ("folders.show", {"folder_id": 7, "tag": None})]

    built = {}
    for root in ("", "/robot"):
        for _ in range(2):  # the second time from what was remembered
            with app.test_request_context("/", base_url=f"http://localhost{root}/"):
                for endpoint, values in cases:
                    built.setdefault(root, []).append(
                        (template_url_for(endpoint, **values), url_for(endpoint, **values)))

    assert all(mine == flask for pairs in built.values() for mine, flask in pairs)
    assert built["/robot"][0][0] == "/robot/folders/7" and built[""][0][0] == "/folders/7"


def test_external_anchored_and_unhashable_addresses_are_built_afresh(app):
    with app.test_request_context("/"):
        external = template_url_for("folders.show", folder_id=3, _external=True)
        anchored = template_url_for("folders.show", folder_id=3, _anchor="jobs")
        listed = template_url_for("folders.search", q=["a", "b"])

    assert external.startswith("http://") and external.endswith("/folders/3")
    assert anchored == "/folders/3#jobs"
    assert listed == "/folders/search?q=a&q=b"


def test_times_show_in_the_given_or_the_users_zone(app):
    moment = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01:30 in Prague, before the clocks go forward

    with app.test_request_context("/"):
        assert localtime(moment, zone="Europe/Prague") == "2026-03-29 01:30"
        assert localtime(moment.replace(hour=1), zone="Europe/Prague") == "2026-03-29 03:30"  # summer time
        assert localtime(moment, "%d.%m. %H:%M", zone="America/New_York") == "28.03. 20:30"
        assert localtime(moment, zone="Not/AZone") == "2026-03-29 00:30"
        assert localtime(None) == "—"
        assert localtime(moment) == "2026-03-29 00:30"  # nobody logged in: UTC
