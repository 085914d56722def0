"""The demo site the app serves for the Sandbox's ads, and the demo's URL checker job finding
its broken pages with the app itself serving them."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from ppc_robot.lib.demo import seed_demo
from ppc_robot.lib.demo_site import BROKEN_PATHS, DEMO_SITE_PREFIX
from ppc_robot.lib.models import Job, JobDefinition, JobRun, RunStatus, UrlCheck
from ppc_robot.lib.runner import execute_run
from ppc_robot.web import create_app
from ppc_robot.web.queue import runner_settings, session_factory
from tests.conftest import app_config
from tests.support.servers import free_port


@pytest.mark.parametrize(("path", "status", "text"), [
    ("/", 200, "Acme — home"),
    ("/shoes/running", 200, "Running shoes"),
    ("/sale-2019", 404, "gone (404)"),
    ("/old-collection", 410, "gone (410)"),
    ("/product/discontinued", 200, "Stránka nenalezena"),
    ("/no-such-page", 404, ""),
])
def test_the_demo_site_answers_each_page_as_listed(client, path, status, text):
    response = client.get(DEMO_SITE_PREFIX + path)

    assert response.status_code == status
    assert text in response.text


def test_the_demo_sites_redirects_chain_and_loop(client):
    first = client.get(f"{DEMO_SITE_PREFIX}/winter")
    second = client.get(f"{DEMO_SITE_PREFIX}/promo/winter")
    loop = client.get(f"{DEMO_SITE_PREFIX}/loop-b")

    assert (first.status_code, first.headers["Location"]) == (301, f"{DEMO_SITE_PREFIX}/promo/winter")
    assert (second.status_code, second.headers["Location"]) == (302, f"{DEMO_SITE_PREFIX}/shoes")
    assert loop.headers["Location"] == f"{DEMO_SITE_PREFIX}/loop-a"


@pytest.fixture
def served_app(database_url, tmp_path):
    """A second app on the test database, served on loopback at its own PPC_ROBOT_BASE_URL."""
    port = free_port()
    app = create_app(app_config(database_url, tmp_path / "instance",
                                PPC_ROBOT_BASE_URL=f"http://127.0.0.1:{port}",
                                PPC_ROBOT_URLCHECK_MIN_INTERVAL="0"))
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield app
    server.shutdown()
    thread.join(5)


def test_the_demo_url_checker_job_finds_the_demo_sites_broken_pages(served_app, session, client,
                                                                    login):
    demo = seed_demo(session)
    session.commit()
    job = session.scalar(select(Job).join(JobDefinition).where(
        Job.user_id == demo.user.id, JobDefinition.task_type == "url_checker"))
    run = JobRun(user_id=demo.user.id, job_id=job.id, scheduled_at=job.next_run_at)
    session.add(run)
    session.commit()

    outcome = execute_run(session_factory(served_app), run.id, runner_settings(served_app))

    session.expire_all()
    assert outcome == "succeeded", session.get(JobRun, run.id).error_message
    assert session.get(JobRun, run.id).status == RunStatus.SUCCEEDED
    checks = session.scalars(select(UrlCheck).where(UrlCheck.run_id == run.id)).all()
    broken = {c.url.split(DEMO_SITE_PREFIX, 1)[1].split("?")[0] for c in checks
              if c.status == "broken" and DEMO_SITE_PREFIX in c.url}
    assert broken == set(BROKEN_PATHS)
    assert {c.status for c in checks if c.url.endswith("/winter")} == {"redirect"}
    assert {c.status for c in checks if "/slow" in c.url} == {"ok"}
    login(demo.user)
    page = client.get(f"/runs/{run.id}")
    broken_count = sum(1 for c in checks if c.status in ("broken", "malformed"))
    assert f"Broken: {broken_count - 1}" in page.text and "Malformed: 1" in page.text
    assert f"{DEMO_SITE_PREFIX}/sale-2019" in page.text and "HTTP 410 Gone." in page.text
