"""Form fields for every number a form takes: ids, id lists, bounded integers and decimals.

Plain WTForms (no Flask), so the report types' parameter forms in lib use them as the web's
forms do. Each field keeps its bounds (a `Bound` of `ppc_robot.lib.bounds`) itself: a value
out of range is refused with a message on the field, never handed to the database.
"""

from __future__ import annotations

from typing import Any

from wtforms import DecimalField, IntegerField, SelectField, SelectMultipleField
from wtforms.validators import InputRequired, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, TextInput

from ppc_robot.lib.bounds import COUNT, ID_MAX, IDS_MAX, MONEY, Bound
from ppc_robot.lib.i18n import number_input_text, parse_number

NOT_A_CHOICE = "Not a valid choice."
REQUIRED = "This field is required."
TEXT_MAX = 100  # no number a form takes is longer; longer text is refused unread


def coerce_id(value: Any) -> int:
    """An id as a form sends it (plain digits, 0 for "none") or as choices hold it (an int).

    Raises ValueError for anything else, including a number no row can have.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        text = value.strip()
        number = int(text) if len(text) <= 20 else ID_MAX + 1
    else:
        raise ValueError(NOT_A_CHOICE)
    if not 0 <= number <= ID_MAX:
        raise ValueError(NOT_A_CHOICE)
    return number


class IdField(SelectField):
    """One id chosen from a list; 0 may stand for "none" where the choices offer it."""

    def __init__(self, label: str | None = None, validators: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("coerce", coerce_id)
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        if valuelist:
            self.data = None
            self.data = self.coerce(valuelist[0])  # ValueError: NOT_A_CHOICE on the field


class IdListField(SelectMultipleField):
    """Several ids chosen from a list, at most `max_entries` of them."""

    def __init__(self, label: str | None = None, validators: Any = None, *,
                 max_entries: int = IDS_MAX, **kwargs: Any) -> None:
        kwargs.setdefault("coerce", coerce_id)
        super().__init__(label, validators, **kwargs)
        self.max_entries = max_entries

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = []
        if len(valuelist) > self.max_entries:
            raise ValueError(f"Choose at most {self.max_entries:,}.")
        self.data = [self.coerce(value) for value in valuelist]


class IdCheckboxesField(IdListField):
    """Several ids, drawn as a list of checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _refuse_blank_if_required(field: Any) -> None:
    # InputRequired takes "  " as input; a number field must not hand it on as None.
    if getattr(field.flags, "required", False):
        messages = [v.message for v in field.validators
                    if isinstance(v, InputRequired) and v.message]
        raise ValueError(messages[0] if messages else REQUIRED)


class BoundedIntegerField(IntegerField):
    """A whole number in plain digits within `bound`; blank is None."""

    def __init__(self, label: str | None = None, validators: Any = None, *,
                 bound: Bound = COUNT, **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.bound = bound

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        text = str(valuelist[0]).strip()
        digits = text[1:] if text[:1] in ("+", "-") else text
        self.data = None
        if not text:
            _refuse_blank_if_required(self)
            return
        if not (digits.isascii() and digits.isdigit()):
            raise ValueError(self.bound.message)
        self.data = int(text) if len(digits) <= 20 else int(self.bound.maximum) + 1

    def pre_validate(self, form: Any) -> None:
        if self.data is not None and not self.bound.contains(self.data):
            raise ValidationError(self.bound.message)


class BoundedDecimalField(DecimalField):
    """A finite decimal number within `bound`; blank is None.

    NaN and infinity are refused here: Decimal parses them, and comparing a signalling NaN
    raises instead of answering. Typed in the user's locale ("1 234,5" in Czech), so the input
    is text: a browser's number input refuses the decimal comma and the spaces.
    """

    widget = TextInput()

    def __init__(self, label: str | None = None, validators: Any = None, *,
                 bound: Bound = MONEY, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", {"inputmode": "decimal"})
        super().__init__(label, validators, **kwargs)
        self.bound = bound

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        text = str(valuelist[0]).strip()
        self.data = None
        if not text:
            _refuse_blank_if_required(self)
            return
        value = parse_number(text) if len(text) <= TEXT_MAX else None
        if value is None:
            raise ValueError(f"Give a number, such as 1250.50. {self.bound.message}")
        self.data = value

    def pre_validate(self, form: Any) -> None:
        if self.data is not None and not self.bound.contains(self.data):
            raise ValidationError(self.bound.message)

    def _value(self) -> str:
        if self.raw_data:
            return super()._value()  # what was typed, as typed
        return number_input_text(super()._value())


class MoneyField(BoundedDecimalField):
    """An amount of money within MONEY, shown with two decimals."""

    def __init__(self, label: str | None = None, validators: Any = None, **kwargs: Any) -> None:
        kwargs.setdefault("places", 2)
        super().__init__(label, validators, **kwargs)
