"""Forms of the folder pages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField
from wtforms.validators import InputRequired, Length

from ppc_robot.lib.fields import IdField
from ppc_robot.lib.models import Folder
from ppc_robot.lib.models.folders import FOLDER_NAME_MAX


def strip_whitespace(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


class FolderForm(FlaskForm):
    """Create or rename a folder."""

    name = StringField(
        _l("Name"),
        [InputRequired(message=_l("Give the folder a name.")), Length(max=FOLDER_NAME_MAX)],
        filters=[strip_whitespace],
        description=_l("Shown in the tree and in breadcrumbs."),
    )


class FolderMoveForm(FlaskForm):
    """Move a folder into another of the user's folders.

    Folders inside its own subtree are listed disabled; a crafted post of one still reaches
    lib, which refuses it with a message, and a foreign id is answered 404 by the view.
    """

    target_id = IdField(_l("Move into"), validators=[InputRequired()], validate_choice=False)

    def __init__(
        self, tree: Sequence[tuple[Folder, int]], blocked: set[int], **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.target_id.choices = [
            (f.id, "\u2003" * depth + f.name, {"disabled": True} if f.id in blocked else {})
            for f, depth in tree
        ]


class FolderDeleteForm(FlaskForm):
    """Delete a folder, optionally moving its contents to the parent."""

    move_contents_up = BooleanField(_l("Move its sub-folders and jobs to the parent folder"))
