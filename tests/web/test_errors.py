from __future__ import annotations

from flask import Blueprint

from ppc_robot.web import create_app
from tests.conftest import app_config


def test_an_unexpected_error_shows_the_500_page_without_details(database_url, tmp_path, session):
    app = create_app(app_config(database_url, tmp_path / "instance", TESTING=False))
    broken = Blueprint("broken", __name__)

    @broken.route("/broken")
    def explode():
        raise RuntimeError("secret internal detail")

    app.register_blueprint(broken)

    response = app.test_client().get("/broken")

    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "secret internal detail" not in response.text


def test_a_missing_csrf_token_explains_itself(client):
    response = client.post("/login", data={"email": "a@b.test", "password": "x" * 12})

    assert response.status_code == 400
    assert "The form expired" in response.text
