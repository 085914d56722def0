"""Forms of the tag pages."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length

from ppc_robot.lib.models.tags import DEFAULT_TAG_COLOUR, TAG_NAME_MAX
from ppc_robot.web.folders.forms import strip_whitespace


class TagForm(FlaskForm):
    """Create, rename or recolour a tag (of either kind)."""

    name = StringField(_l("Name"), [InputRequired(_l("Give the tag a name.")), Length(max=TAG_NAME_MAX)],
                       filters=[strip_whitespace])
    colour = StringField(_l("Colour"), [InputRequired(_l("Pick a colour."))], default=DEFAULT_TAG_COLOUR,
                         render_kw={"type": "color"}, description=_l("The badge's background."))
