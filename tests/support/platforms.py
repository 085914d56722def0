"""Fixtures for the platform stand-ins and settings that point the adapters at them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from ppc_robot.lib.platforms import PlatformSettings
from tests.stubs.sklik import SklikAccount, SklikStub, daily_rows

SKLIK_TOKEN = "sklik-token-0123456789abcdef-SECRET"


@pytest.fixture
def sklik_stub() -> Iterator[SklikStub]:
    stub = SklikStub().start()
    clients = [
        SklikAccount(132256, "eshop@example.cz", {
            "Brand": daily_rows(date(2026, 8, 1), 31, seed=1),
            "Generic": daily_rows(date(2026, 8, 1), 31, seed=2),
            "Remarketing": daily_rows(date(2026, 8, 1), 31, seed=3),
        }),
        SklikAccount(132257, "garden@example.cz", {}),
    ]
    stub.add_login(SKLIK_TOKEN, 86796, "agency@example.cz", clients)
    yield stub
    stub.stop()


def stub_settings(**urls: str) -> PlatformSettings:
    """Settings for tests: no waiting between retries, quick polls."""
    return PlatformSettings(retry_max_wait_seconds=0, report_poll_interval_seconds=0,
                            timeout_seconds=5, **urls)
