"""Fixtures for running reports: a session factory and a user with a linked Sandbox login."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from ppc_robot.lib.accounts import link_service_account
from ppc_robot.lib.credentials import Vault, generate_key
from ppc_robot.lib.db import make_session_factory
from ppc_robot.lib.models import ClientAccount, Platform
from ppc_robot.lib.platforms import PlatformSettings
from tests.factories import make_user

SCHEDULED = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
KEY = generate_key()


@pytest.fixture
def factory(engine):
    return make_session_factory(engine)


@pytest.fixture
def sandbox(session):
    """A user, his Sandbox login and its client accounts (by name)."""
    user = make_user(session)
    login, _ = link_service_account(session, user, Platform.SANDBOX, {}, vault=Vault([KEY]),
                                    settings=PlatformSettings())
    session.commit()
    accounts = session.scalars(select(ClientAccount).where(ClientAccount.service_account_id == login.id)
                               .order_by(ClientAccount.name)).all()
    return user, login, accounts
