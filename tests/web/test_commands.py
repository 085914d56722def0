from __future__ import annotations

import re

from sqlalchemy import func, select

from ppc_robot.lib.folders import ancestors
from ppc_robot.lib.models import ClientAccount, Folder, Job, ServiceAccount, Tag, User
from ppc_robot.lib.passwords import verify_password
from ppc_robot.lib.users import find_user_by_email


def test_create_user_prompts_for_a_password_and_creates_a_root_folder(app, session):
    runner = app.test_cli_runner()

    result = runner.invoke(args=["create-user", "--email", "Ana@Example.test"],
                           input="a long enough password\na long enough password\n")

    assert result.exit_code == 0, result.output
    user = find_user_by_email(session, "ana@example.test")
    assert not user.is_admin
    assert verify_password(user.password_hash, "a long enough password")
    assert session.scalar(select(Folder).where(Folder.user_id == user.id)).is_root


def test_create_admin_makes_an_admin(app, session):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--email", "boss@example.test"],
        input="another long password\nanother long password\n",
    )

    assert result.exit_code == 0, result.output
    assert find_user_by_email(session, "boss@example.test").is_admin


def test_create_user_refuses_a_short_password_and_a_taken_address(app, session, user):
    runner = app.test_cli_runner()

    short = runner.invoke(args=["create-user", "--email", "new@example.test"], input="short\nshort\n")
    taken = runner.invoke(args=["create-user", "--email", user.email],
                          input="a long enough password\na long enough password\n")

    assert short.exit_code == 1 and "at least 12 characters" in short.output
    assert taken.exit_code == 1 and "already exists" in taken.output
    assert session.scalar(select(func.count()).select_from(User)) == 1  # only the fixture's user


def test_seed_demo_prints_a_working_login_and_builds_a_workspace(app, session, client):
    result = app.test_cli_runner().invoke(args=["seed-demo"])

    assert result.exit_code == 0, result.output
    email, password = re.search(r"Log in as (\S+) with password (\S+)", result.output).groups()
    demo = find_user_by_email(session, email)
    assert verify_password(demo.password_hash, password)
    jobs = session.scalars(select(Job).where(Job.user_id == demo.id)).all()
    assert len(jobs) >= 4
    assert max(len(ancestors(session, job.folder)) for job in jobs) >= 3
    assert session.scalar(select(func.count()).select_from(Tag).where(Tag.user_id == demo.id)) >= 2
    assert session.scalar(select(func.count()).select_from(ServiceAccount).where(ServiceAccount.user_id == demo.id)) == 1
    assert session.scalar(select(func.count()).select_from(ClientAccount).where(ClientAccount.user_id == demo.id)) >= 4
    assert len({job.definition_id for job in jobs}) < len(jobs)  # some share a definition


def test_seed_demo_twice_keeps_one_demo_user_with_a_new_password(app, session):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])

    second = runner.invoke(args=["seed-demo"])

    assert second.exit_code == 0
    assert "new password set" in second.output
    assert first.output.split()[-1] != second.output.split()[-1]
    assert session.scalar(select(func.count()).select_from(Job)) == 8  # anomalies, URL checker and alert rules jobs included
