"""Users: a new user's time zone must be one zoneinfo knows."""

from __future__ import annotations

import pytest

from ppc_robot.lib.users import UserError, create_user

PASSWORD = "correct horse battery staple"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "Europe/Prague\n"])
def test_an_unknown_time_zone_is_refused(session, zone):
    with pytest.raises(UserError, match="time zone"):
        create_user(session, "zone@example.test", PASSWORD, time_zone=zone)


def test_a_known_time_zone_is_kept(session):
    user = create_user(session, "zone@example.test", PASSWORD, time_zone="America/Sao_Paulo")

    assert user.time_zone == "America/Sao_Paulo"
