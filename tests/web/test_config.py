from __future__ import annotations

import os
import stat

from ppc_robot.web import create_app


def test_secrets_are_generated_into_the_instance_folder_once(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("PPC_ROBOT_CREDENTIALS_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    instance = tmp_path / "instance"

    first = create_app({"INSTANCE_PATH": str(instance)})
    second = create_app({"INSTANCE_PATH": str(instance)})

    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 32
    assert first.config["PPC_ROBOT_CREDENTIALS_KEY"] == second.config["PPC_ROBOT_CREDENTIALS_KEY"]
    for name in ("secret_key", "credentials.key"):
        mode = stat.S_IMODE(os.stat(instance / name).st_mode)
        assert mode == 0o600


def test_two_instances_get_different_secrets(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite3'}")

    one = create_app({"INSTANCE_PATH": str(tmp_path / "one")})
    two = create_app({"INSTANCE_PATH": str(tmp_path / "two")})

    assert one.config["SECRET_KEY"] != two.config["SECRET_KEY"]


def test_environment_settings_are_used(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment-" + "x" * 20)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'env.sqlite3'}")

    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance")})

    assert app.config["SECRET_KEY"].startswith("from-the-environment-")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.sqlite3")
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_the_sqlite_default_lives_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)

    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance")})

    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'instance' / 'ppc_robot.sqlite3'}"
