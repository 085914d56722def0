"""`flask sync-accounts` and `flask rotate-credentials-key`."""

from __future__ import annotations

from sqlalchemy import select

from ppc_robot.lib.credentials import Vault, generate_key
from ppc_robot.lib.models import ClientAccount, NotificationChannelSetting, ServiceAccount


def test_sync_accounts_command(app, session, workspace) -> None:
    result = app.test_cli_runner().invoke(args=["sync-accounts"])
    assert result.exit_code == 0, result.output
    assert "1 login(s) synced." in result.output
    session.expire_all()
    names = session.scalars(select(ClientAccount.name).where(
        ClientAccount.service_account_id == workspace.service_account.id)).all()
    assert "Acme Shoes CZ" in names


def test_rotate_credentials_key_command(app, session, workspace, monkeypatch) -> None:
    old = app.config["PPC_ROBOT_CREDENTIALS_KEY"]
    vault = Vault([old])
    workspace.service_account.credentials_encrypted = vault.encrypt_json({"token": "t0k3n"})
    workspace.channel.target_encrypted = vault.encrypt("https://hooks.example/T/B/x")
    session.commit()
    new = generate_key()
    monkeypatch.setitem(app.config, "PPC_ROBOT_CREDENTIALS_KEY", f"{new},{old}")
    result = app.test_cli_runner().invoke(args=["rotate-credentials-key"])
    assert result.exit_code == 0, result.output
    assert "2 secret(s) re-encrypted" in result.output
    session.expire_all()
    login = session.get(ServiceAccount, workspace.service_account.id)
    channel = session.get(NotificationChannelSetting, workspace.channel.id)
    assert Vault([new]).decrypt_json(login.credentials_encrypted) == {"token": "t0k3n"}
    assert Vault([new]).decrypt(channel.target_encrypted) == "https://hooks.example/T/B/x"
