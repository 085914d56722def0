"""Forms of the run pages."""

from __future__ import annotations

from flask_wtf import FlaskForm


class RevokeLinkForm(FlaskForm):
    """Withdraw a mailed download link: a POST with only its CSRF token."""
