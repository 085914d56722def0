"""In the browser: the run page's chart has two titled value axes, units and the comparison
period dashed (read from Chart.js itself), with a screenshot for reviewers."""

from __future__ import annotations

from playwright.sync_api import expect

from ppc_robot.lib.models import JobRun, OutputType, RunTrigger, utcnow
from ppc_robot.lib.reports.performance import default_parameters
from ppc_robot.lib.runner import execute_run
from ppc_robot.web.queue import runner_settings, session_factory
from tests.e2e.conftest import SCREENSHOTS, browser_login, screenshot
from tests.factories import PASSWORD, make_definition, make_job
from tests.support import runs as run_fixtures

sandbox = run_fixtures.sandbox

CHART_CONFIG = """(canvas) => {
  const chart = Chart.getChart(canvas);
  const scales = {};
  for (const [id, scale] of Object.entries(chart.options.scales)) {
    scales[id] = {position: scale.position, shown: scale.title.display, title: scale.title.text};
  }
  const datasets = chart.data.datasets.map((d) => ({
    label: d.label, axis: d.yAxisID, dashed: d.borderDash.length > 0, points: d.data.length}));
  return {scales, datasets};
}"""


def test_the_run_page_charts_money_and_a_count_on_their_own_titled_axes(page, app, session,
                                                                      sandbox, monkeypatch):
    user, _, accounts = sandbox
    currency = accounts[0].currency
    definition = make_definition(session, user, version=2, output_type=OutputType.XLSX,
                                 parameters=default_parameters() | {
                                     "dimensions": ["date"], "metrics": ["cost", "clicks", "ctr"],
                                     "date_range": "last_14_days", "comparison": "previous_period"})
    job = make_job(session, user, definition=definition, name="Acme daily performance")
    job.client_accounts = [a for a in accounts if a.currency == currency]
    run = JobRun(user_id=user.id, job_id=job.id, scheduled_at=utcnow(), trigger=RunTrigger.MANUAL)
    session.add(run)
    session.commit()
    monkeypatch.setitem(app.config, "PPC_ROBOT_CREDENTIALS_KEY", run_fixtures.KEY)
    assert execute_run(session_factory(app), run.id, runner_settings(app)) == "succeeded"

    browser_login(page, user.email, PASSWORD)
    page.goto(f"/runs/{run.id}")
    canvas = page.locator("canvas[data-chart='run-chart-data']")
    expect(canvas).to_be_visible()
    page.wait_for_function("(c) => Chart.getChart(c) !== undefined", arg=canvas.element_handle())
    box = canvas.bounding_box()
    config = canvas.evaluate(CHART_CONFIG)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(".run-chart").screenshot(path=str(SCREENSHOTS / "run-chart.png"))
    screenshot(page, "run-page-with-chart")

    assert box["width"] > 400 and box["height"] > 200
    assert config["scales"]["x"]["title"] == "Day"
    assert config["scales"]["y"] == {"position": "left", "shown": True, "title": f"Cost ({currency})"}
    assert config["scales"]["y2"] == {"position": "right", "shown": True, "title": "Clicks"}
    assert [(d["label"], d["axis"], d["dashed"], d["points"]) for d in config["datasets"]] == [
        ("Cost", "y", False, 14), ("Cost (before)", "y", True, 14),
        ("Clicks", "y2", False, 14), ("Clicks (before)", "y2", True, 14)]
