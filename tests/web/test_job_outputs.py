"""What the job page says about where the job's output goes."""

from __future__ import annotations

from ppc_robot.lib.models import OutputType
from tests.factories import make_definition, make_job

CREATED = "1CreatedByTheFirstRun0123456789abcdefghijk"


def test_a_sheet_job_without_a_spreadsheet_says_the_first_run_creates_one_then_links_it(
        client, login, session, user):
    definition = make_definition(session, user, output_type=OutputType.GOOGLE_SHEETS)
    job = make_job(session, user, definition=definition, output_path="")
    session.commit()
    login(user)

    before = client.get(f"/jobs/{job.id}").text
    job.output_state = {"created_spreadsheet_id": CREATED, "spreadsheet_id": CREATED, "tab": "Performance",
                        "spreadsheet_url": f"https://docs.google.com/spreadsheets/d/{CREATED}/edit"}
    session.commit()
    after = client.get(f"/jobs/{job.id}").text

    assert "The first run creates a Google spreadsheet" in before
    assert f'href="https://docs.google.com/spreadsheets/d/{CREATED}/edit"' in after
    assert "created by its first run" in after


def test_a_spreadsheet_address_that_is_not_googles_is_never_linked(client, login, session, user):
    definition = make_definition(session, user, output_type=OutputType.GOOGLE_SHEETS)
    job = make_job(session, user, definition=definition, output_path="")
    job.output_state = {"created_spreadsheet_id": CREATED, "spreadsheet_url": "javascript:alert(1)"}
    session.commit()
    login(user)

    page = client.get(f"/jobs/{job.id}").text

    assert "javascript:alert(1)" not in page
    assert f'href="https://docs.google.com/spreadsheets/d/{CREATED}/edit"' in page
