"""The interface in Czech, in headless Chromium: login, folders, the job editor, a run,
notifications and a client's money, with screenshots for reviewers."""

from __future__ import annotations

import dataclasses

from playwright.sync_api import expect
from sqlalchemy import select

from ppc_robot.lib.models import Client, Job, OutputType
from ppc_robot.lib.notifications import emit
from ppc_robot.lib.reports.performance import default_parameters
from ppc_robot.lib.runner import EmbeddedWorker
from ppc_robot.web.queue import runner_settings, session_factory
from tests.e2e.conftest import browser_login, screenshot
from tests.factories import PASSWORD, make_definition, make_job
from tests.support import runs as run_fixtures

sandbox = run_fixtures.sandbox


def test_a_czech_user_works_in_czech(page, app, session, sandbox):
    user, _, accounts = sandbox
    user.time_zone = "Europe/Prague"
    definition = make_definition(session, user, version=2, output_type=OutputType.XLSX,
                                 parameters=default_parameters() | {
                                     "dimensions": ["date"], "metrics": ["clicks", "cost"],
                                     "date_range": "last_7_days"})
    job = make_job(session, user, definition=definition, name="Denní výkon")
    job.client_accounts = [a for a in accounts if a.currency == accounts[0].currency]
    session.flush()
    # Stored as the runner stores it: the English template and its parameters.
    emit(session, user.id, "report_failed",
         params={"job": job.name, "reason": "Sklik odpověděl 500"}, job_id=job.id)
    session.commit()

    # Login in English (the browser's language), then Czech chosen in the profile.
    browser_login(page, user.email, PASSWORD)
    page.goto("/settings/")
    page.select_option("#locale", "cs")
    page.click("main button[type=submit]")
    expect(page.locator(".alert-success")).to_have_text("Váš profil je uložen.")
    screenshot(page, "cs-profile")
    page.goto("/")
    screenshot(page, "cs-dashboard")
    navigation = page.locator("nav.navbar")
    expect(navigation).to_contain_text("Složky")
    expect(navigation).to_contain_text("Odhlásit se")
    assert page.locator("html").get_attribute("lang") == "cs"

    # Folders.
    page.click("nav.navbar >> text=Složky")
    page.click("main >> text=Nová složka")
    expect(page.locator("h1")).to_contain_text("Nová složka v Domů")
    page.fill("input[name=name]", "Klienti")
    page.click("main button[type=submit]")
    expect(page.locator(".alert-success")).to_contain_text("Složka „Klienti“ vytvořena.")
    screenshot(page, "cs-folder")

    # The job editor: labels, a refusal in Czech, then the saved job.
    page.click("main >> text=Nová úloha")
    expect(page.locator("h1")).to_contain_text("Nová úloha v Klienti")
    expect(page.locator("main")).to_contain_text("Název")
    expect(page.locator("#schedule_kind")).to_contain_text("Jen při ručním spuštění")
    page.click("main button:has-text('Uložit úlohu')")
    expect(page.locator("main")).to_contain_text("Zadejte název úlohy.")
    screenshot(page, "cs-job-editor")
    page.fill("#name", "Týdenní přehled")
    page.check(f"#account-{accounts[0].id}")
    page.click("main button:has-text('Uložit úlohu')")
    expect(page.locator("h1")).to_contain_text("Týdenní přehled")
    session.rollback()
    assert session.scalar(select(Job.id).where(Job.name == "Týdenní přehled")) is not None

    # A run, its status and its page in Czech.
    worker = EmbeddedWorker(session_factory(app),
                            dataclasses.replace(runner_settings(app), tick_seconds=0.3))
    app.extensions["ppc_robot_worker"] = worker.start()
    try:
        page.goto(f"/jobs/{job.id}")
        page.click("text=Spustit teď")
        expect(page.locator("#run-status")).to_contain_text("dokončeno", timeout=30_000)
        expect(page.locator("main")).to_contain_text("Stáhnout výstup")
        screenshot(page, "cs-run")
    finally:
        app.extensions.pop("ppc_robot_worker", None)
        worker.stop()

    # Notifications: the stored English message is shown in Czech.
    page.goto("/notifications/")
    item = page.locator(".notification-list .notification-item").first
    expect(item).to_contain_text("Report „Denní výkon“ selhal: Sklik odpověděl 500")
    expect(item).to_contain_text("Report selhal")
    expect(item).to_contain_text("Označit jako přečtené")
    page.evaluate("document.fonts.ready")
    screenshot(page, "cs-notifications")
    item.locator("text=Co dělat").click()
    expect(page.locator(".help-what-to-do")).to_contain_text("Přečtěte si důvod na stránce běhu")

    # Money typed with a decimal comma and shown as Czech writes it.
    page.goto("/clients/new")
    page.fill("input[name=name]", "Zahradnictví")
    page.fill("input[name=currency]", "CZK")
    page.fill("input[name=monthly_budget]", "25 000,5")
    page.fill("input[name=target_roas]", "4,5")
    page.click("main button[type=submit]")
    expect(page.locator(".budget")).to_have_text("25\u00a0000,50\u00a0Kč")
    screenshot(page, "cs-client")
    session.rollback()
    client = session.scalar(select(Client).where(Client.name == "Zahradnictví"))
    assert (str(client.monthly_budget), str(client.target_roas)) == ("25000.50", "4.5000")
