"""The job editor edits the custom alert rules' list of rules: add, reorder, remove, refuse."""

from __future__ import annotations

import re

from sqlalchemy import select

from ppc_robot.lib.models import Job


def job_data(workspace, rules, **extra):
    data = {"name": "Rule watch", "folder_id": workspace.folder.id, "task_type": "alert_rules",
            "definition_id": 0, "output_type": "csv", "output_path": "{job} {date}",
            "client_account_ids": [workspace.client_account.id], "schedule_kind": "manual",
            "time_zone": "UTC", **extra}
    for i, rule in enumerate(rules):
        conditions = rule["conditions"]
        for key, value in rule.items():
            if key != "conditions":
                data[f"params-rules-{i}-{key}"] = value
        for j, condition in enumerate(conditions):
            for key, value in condition.items():
                data[f"params-rules-{i}-conditions-{j}-{key}"] = value
    return data


def a_rule(name, metric="cpa", comparison="gt", value="300", **extra):
    return {"name": name, "level": "account", "period": "yesterday", "min_metric": "",
            "min_value": "", "conditions": [{"metric": metric, "comparison": comparison,
                                             "value": value}], **extra}


def names_on(page):
    return re.findall(r'name="params-rules-\d+-name"[^>]*value="([^"]*)"', page.text) or \
        re.findall(r'value="([^"]*)"[^>]*name="params-rules-\d+-name"', page.text)


def test_rules_are_added_reordered_removed_and_saved_in_order(client, login, submit, session,
                                                              workspace):
    login(workspace.user)
    url = f"/jobs/new/{workspace.folder.id}?type=alert_rules"

    first = client.get(url)
    added = submit(url, job_data(workspace, [a_rule("High CPA")], list_edit="add:params-rules"))
    two = submit(url, job_data(workspace, [a_rule("High CPA"), a_rule("Clicks fell", "clicks",
                 "down_vs_previous", "30")], list_edit="add:params-rules"))
    three = [a_rule("High CPA"), a_rule("Clicks fell", "clicks", "down_vs_previous", "30"),
             a_rule("Spare")]
    moved = submit(url, job_data(workspace, three, list_edit="up:params-rules-1"))
    removed = submit(url, job_data(workspace, three, list_edit="remove:params-rules-2"))
    condition = submit(url, job_data(workspace, three[:1],
                                     list_edit="add:params-rules-0-conditions"))
    saved = submit(url, job_data(workspace, [three[1], three[0]]))

    assert "Add rule" in first.text and "Move rule up" in first.text
    assert added.status_code == 200 and names_on(added) == ["High CPA", ""]
    assert names_on(two) == ["High CPA", "Clicks fell", ""]
    assert names_on(moved) == ["Clicks fell", "High CPA", "Spare"]
    assert names_on(removed) == ["High CPA", "Clicks fell"]
    assert 'name="params-rules-0-conditions-1-metric"' in condition.text
    assert saved.status_code == 302
    job = session.scalar(select(Job).where(Job.name == "Rule watch"))
    assert job.definition.task_type == "alert_rules" and job.definition.task_type_version == 2
    assert [r["name"] for r in job.definition.parameters["rules"]] == ["Clicks fell", "High CPA"]
    assert job.definition.parameters["rules"][0]["conditions"] == [
        {"metric": "clicks", "comparison": "down_vs_previous", "value": "30"}]


def test_a_bad_value_is_refused_beside_its_field_with_the_typed_input_kept(
        client, login, submit, session, workspace):
    login(workspace.user)
    url = f"/jobs/new/{workspace.folder.id}?type=alert_rules"
    rules = [a_rule("High CPA"), a_rule("Clicks fell", "clicks", "down_vs_previous", "-15")]

    negative = submit(url, job_data(workspace, rules))
    missing = submit(url, job_data(workspace, [a_rule("No threshold", value="")]))
    unknown = submit(url, job_data(workspace, [a_rule("Odd", metric="bounce_rate")]))
    period = submit(url, job_data(workspace, [a_rule("Long", period="last_90_days")]))
    target = submit(url, job_data(workspace, [a_rule("CTR", "ctr", "worse_than_target", "")]))

    assert negative.status_code == 422
    field = negative.text[negative.text.index('name="params-rules-1-conditions-0-value"') - 300:]
    assert 'value="-15"' in field[:600] and "is-invalid" in field[:600]
    assert "A percentage cannot be negative" in negative.text
    assert 'value="High CPA"' in negative.text
    assert missing.status_code == 422 and "Give the threshold." in missing.text
    assert unknown.status_code == 422 and "There is no metric “bounce_rate”" in unknown.text
    assert period.status_code == 422 and "cannot serve the period" in period.text
    assert target.status_code == 422 and "targets for CPA, ROAS and PNO only" in target.text
    assert session.scalar(select(Job).where(Job.user_id == workspace.user.id,
                                            Job.name == "Rule watch")) is None


def test_the_editor_shows_rules_saved_by_version_1_upgraded(client, login, session, workspace):
    from tests.factories import make_definition, make_job

    definition = make_definition(session, workspace.user, task_type="alert_rules",
                                 parameters={"rules": []})
    definition.task_type_version = 1
    definition.parameters = {"rule_name": "Old CPA rule", "level": "campaign",
                             "period": "last_7_days", "metric": "cpa", "operator": ">=",
                             "threshold": "250", "min_clicks": 40}
    job = make_job(session, workspace.user, definition=definition)
    session.commit()
    login(workspace.user)

    page = client.get(f"/jobs/{job.id}/edit")

    assert page.status_code == 200
    assert names_on(page) == ["Old CPA rule"]
    assert re.search(r'<option selected value="ge">|<option value="ge" selected', page.text)
    assert 'value="250"' in page.text and 'value="40"' in page.text


def test_the_knowledge_base_explains_a_rule_hit(client):
    page = client.get("/help/notifications/6/0")

    assert page.status_code == 200
    assert "Custom rule matched" in page.text
    assert "raise its threshold or its minimum volume" in page.text


def test_the_job_page_lists_each_rule_in_words(client, login, session, workspace):
    from tests.factories import make_definition, make_job

    definition = make_definition(session, workspace.user, task_type="alert_rules",
                                 version=2, parameters={"rules": [
                                     a_rule("High CPA", min_metric="clicks", min_value="100"),
                                     a_rule("Fewer clicks", "clicks", "down_vs_last_year", "30")]})
    job = make_job(session, workspace.user, definition=definition)
    session.commit()
    login(workspace.user)

    page = client.get(f"/jobs/{job.id}")

    assert "High CPA — Client account, yesterday, at least 100 clicks: CPA &gt; 300" in page.text
    assert ("Fewer clicks — Client account, yesterday: Clicks down more than 30 % vs the same "
            "period last year") in page.text


def test_a_change_either_way_is_saved_and_a_negative_one_refused(client, login, submit, session,
                                                               workspace):
    login(workspace.user)
    url = f"/jobs/new/{workspace.folder.id}?type=alert_rules"
    either = a_rule("Cost jumped", "cost", "either_vs_last_year", "40")

    form = client.get(url)
    negative = submit(url, job_data(workspace, [{**either, "conditions": [
        {"metric": "cost", "comparison": "either_vs_last_year", "value": "-40"}]}]))
    saved = submit(url, job_data(workspace, [either]))

    assert 'value="either_vs_previous"' in form.text
    assert negative.status_code == 422
    assert "A percentage cannot be negative: “up or down” takes both ways." in negative.text
    assert saved.status_code == 302
    job = session.scalar(select(Job).where(Job.name == "Rule watch"))
    assert job.definition.parameters["rules"][0]["conditions"] == [
        {"metric": "cost", "comparison": "either_vs_last_year", "value": "40"}]
def test_a_czech_user_edits_the_rules_in_czech(client, login, session, workspace):
    workspace.user.locale = "cs"
    session.commit()
    login(workspace.user)

    page = client.get(f"/jobs/new/{workspace.folder.id}?type=alert_rules").text

    assert "Přidat pravidlo" in page and "Posunout pravidlo nahoru" in page
    assert "Přidat podmínku" in page and "Odebrat podmínku" in page  # the nested list too
    assert "Podmínky (musí platit všechny)" in page and "Název pravidla" in page
    assert "pokles oproti předchozímu období o víc než (%)" in page  # a comparison's label
    assert "Add rule" not in page and "Add condition" not in page


def test_a_czech_user_reads_the_rules_numbered_in_czech_on_the_job_page(client, login, session,
                                                                        workspace):
    from tests.factories import make_definition, make_job

    workspace.user.locale = "cs"
    definition = make_definition(session, workspace.user, task_type="alert_rules", version=2,
                                 parameters={"rules": [
                                     a_rule("High CPA"),
                                     a_rule("Cost jump", "cost", "either_vs_last_year", "40",
                                            period="last_7_days", min_metric="clicks",
                                            min_value="100")]})
    job = make_job(session, workspace.user, definition=definition)
    session.commit()
    login(workspace.user)

    page = client.get(f"/jobs/{job.id}").text

    assert ">Pravidlo 1</dt>" in page and "Rule 1" not in page
    # the rules themselves in Czech too
    assert "High CPA — Klientský účet, včera: CPA &gt; 300" in page
    assert ("Cost jump — Klientský účet, posledních 7 dní, alespoň 100 (prokliky): Náklady: "
            "nárůst nebo pokles o víc než 40 % oproti stejnému období loni") in page


def test_a_czech_user_reads_the_refusals_in_czech(client, login, submit, session, workspace):
    workspace.user.locale = "cs"
    session.commit()
    login(workspace.user)
    url = f"/jobs/new/{workspace.folder.id}?type=alert_rules"

    missing = submit(url, job_data(workspace, [a_rule("", value="")]))

    assert missing.status_code == 422
    assert "Zadejte práh." in missing.text and "Pojmenujte pravidlo." in missing.text
    assert "Give the threshold." not in missing.text
