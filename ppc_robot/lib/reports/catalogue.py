"""The registry of report types, their parameter forms, validation and upgrades."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.dates import format_date
from babel.numbers import format_decimal
from wtforms import BooleanField, DateField, DecimalField, Field, FieldList, Form, SelectFieldBase

from ppc_robot.lib.errors import PpcRobotError
from ppc_robot.lib.i18n import DEFAULT_LOCALE, N_, locale_or_default, translate

Parameters = dict[str, Any]


class ReportError(PpcRobotError):
    """An unknown report type or a version this code cannot read."""


class ParametersError(PpcRobotError):
    """Parameters a report type refuses; `errors` maps each field to its messages."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        self.errors = {name: list(messages) for name, messages in errors.items()}
        super().__init__(_first_message(self.errors) or "The parameters are not valid.")


def _first_message(errors: Any) -> str | None:
    """The first message of a form's errors (repeated sub-forms nest them in lists and dicts)."""
    if isinstance(errors, str):
        return errors
    values = errors.values() if isinstance(errors, Mapping) else errors
    for value in values:
        message = _first_message(value)
        if message:
            return message
    return None


class _FormData(dict[str, list[str]]):
    """The `getlist` interface WTForms reads posted data through, built from a dict."""

    def getlist(self, key: str) -> list[str]:
        return list(self.get(key, []))


class ReportParametersForm(Form):
    """Base of every report type's parameters form; JSON in, JSON out.

    Subclasses may override `validate_parameters` for rules across fields; they add errors to
    the fields and return False.
    """

    def parameters(self) -> Parameters:
        """The form's data as JSON-ready parameters (dates ISO, decimals as strings)."""
        result: Parameters = {}
        for name, form_field in self._fields.items():
            value = form_field.data
            if isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, Decimal):
                value = str(value)
            result[name] = value
        return result

    @classmethod
    def formdata_of(cls, parameters: Mapping[str, Any]) -> _FormData:
        """Posted-form data equivalent to stored parameters (how lib re-validates them)."""
        data = _FormData()
        for name, value in parameters.items():
            if value is None:
                continue
            if isinstance(value, bool):
                if value:
                    data[name] = ["y"]
                continue
            values = value if isinstance(value, list | tuple) else [value]
            data[name] = [str(v) for v in values]
        return data

    @classmethod
    def objects_of(cls, parameters: Mapping[str, Any]) -> Parameters:
        """Stored parameters as the Python values the form's fields hold (for `data=`)."""
        result: Parameters = {}
        for name, unbound in cls.__dict__.items():
            if not hasattr(unbound, "field_class") or name not in parameters:
                continue
            value = parameters[name]
            try:
                if issubclass(unbound.field_class, DateField) and isinstance(value, str):
                    value = date.fromisoformat(value)
                elif issubclass(unbound.field_class, DecimalField) and value is not None:
                    value = Decimal(str(value))
            except (ValueError, InvalidOperation):
                value = None
            result[name] = value
        return result

    def validate_parameters(self) -> bool:
        return True

    def described(self, locale: str | None = None) -> list[tuple[str, str]]:
        """(field label, value in words) for every field holding a value, in the form's order;
        the values in `locale` (English by default), the labels English msgids for the page to
        translate.

        Generic, so every report type gets it: a choice by its label, several by theirs, yes or
        no, a date written out. A type may override `describe_field` for a field of its own.
        """
        words = [(form_field.label.text, self.describe_field(form_field, locale))
                 for form_field in self]
        return [(label, text) for label, text in words if text]

    def describe_field(self, form_field: Field, locale: str | None = None) -> str:
        """One field's value as a person says it in `locale`; empty when it holds nothing."""
        value = form_field.data
        locale = locale_or_default(locale)
        if isinstance(form_field, BooleanField):
            return translate(N_("Yes") if value else N_("No"), locale)
        if value is None or value == "" or value == []:
            return ""
        if isinstance(form_field, SelectFieldBase):
            labels = {str(choice[0]): translate(str(choice[1]), locale)
                      for choice in _flat_choices(form_field.choices)}
            chosen = value if isinstance(value, list | tuple) else [value]
            return ", ".join(labels.get(str(v), str(v)) for v in chosen)
        if locale != DEFAULT_LOCALE and isinstance(value, date | Decimal | int):
            if isinstance(value, date):
                return format_date(value, "long", locale=locale)  # "1. února 2026"
            return format_decimal(value, locale=locale, decimal_quantization=False)
        if isinstance(value, date):
            return f"{value.day} {value:%B %Y}"
        if isinstance(value, Decimal):
            return f"{value:,}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)


def _flat_choices(choices: Any) -> list[Any]:
    """WTForms choices as one list, whether plain or grouped ({group: [(value, label)]})."""
    if isinstance(choices, Mapping):
        return [choice for group in choices.values() for choice in group]
    return list(choices or [])


@dataclass(frozen=True)
class ReportType:
    """One kind of report: how it is named, what parameters it takes, how they evolved."""

    name: str
    label: str
    version: int
    form_class: type[ReportParametersForm]
    description: str = ""
    default_parameters: Callable[[], Parameters] = dict
    # upgrades[v] turns version v's parameters into version v + 1's.
    upgrades: Mapping[int, Callable[[Parameters], Parameters]] = field(default_factory=dict)
    # The parameters in words for the job page, when the form's generic words don't do
    # (a list of rules): (what, value) pairs, given the parameters and the reader's locale.
    in_words: Callable[[Parameters, str | None], list[tuple[str, str]]] | None = None

    def form(self, formdata: Any = None, parameters: Mapping[str, Any] | None = None,
             prefix: str = "") -> ReportParametersForm:
        """The parameters form, from posted data or from stored (current-version) parameters."""
        stored = self.form_class.objects_of(parameters or self.default_parameters())
        return self.form_class(formdata=formdata, data=stored, prefix=prefix)

    def describe(self, parameters: Mapping[str, Any],
                 locale: str | None = None) -> list[tuple[str, str]]:
        """Stored (current-version) parameters in words: (what, value) pairs for the job page,
        the values in `locale`."""
        if self.in_words is not None:
            return self.in_words(dict(parameters), locale)
        return self.form(parameters=parameters).described(locale)

    def upgrade(self, version: int, parameters: Mapping[str, Any]) -> Parameters:
        """Parameters saved for `version`, brought to the current version step by step.

        Raises ReportError for a version newer than this code or with no upgrade path.
        """
        if version > self.version:
            raise ReportError(
                f"This definition was saved by a newer {self.label} (version {version})."
            )
        current = dict(parameters)
        for step in range(version, self.version):
            if step not in self.upgrades:
                raise ReportError(f"{self.label} cannot upgrade parameters from version {step}.")
            current = self.upgrades[step](current)
        return current


_REGISTRY: dict[str, ReportType] = {}


def register_report_type(report_type: ReportType) -> ReportType:
    """Add a report type to the catalogue (idempotent for the same object)."""
    existing = _REGISTRY.get(report_type.name)
    if existing is not None and existing is not report_type:
        raise ValueError(f"report type {report_type.name!r} is already registered")
    _REGISTRY[report_type.name] = report_type
    return report_type


DEFAULT_TYPE = "performance"


def report_types() -> list[ReportType]:
    """Every registered report type: the default one a new job starts with first, then by label."""
    return sorted(_REGISTRY.values(), key=lambda t: (t.name != DEFAULT_TYPE, t.label))


def get_report_type(name: str) -> ReportType:
    """The report type called `name`. Raises ReportError when there is none."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ReportError(f"There is no report type “{name}”.") from None


def _errors_of(form: Form) -> dict[str, list[str]]:
    return {name: list(f.errors) for name, f in form._fields.items() if f.errors}


def validate_parameters(
    report_type: ReportType, parameters: Mapping[str, Any], *, posted_names: Iterable[str] = ()
) -> Parameters:
    """Check parameters for the current version and return them normalised.

    `posted_names` are parameter names a form sent: any the type does not declare is refused,
    as are unknown keys in `parameters`. Raises ParametersError with the messages per field.
    """
    known = set(report_type.form_class().data)
    unknown = sorted((set(parameters) | set(posted_names)) - known)
    if unknown:
        raise ParametersError(
            {"": [f"{report_type.label} has no parameter “{unknown[0]}”."]}
        )
    form = report_type.form_class(formdata=report_type.form_class.formdata_of(parameters))
    if not (form.validate() and form.validate_parameters()):
        raise ParametersError(_errors_of(form))
    return form.parameters()


def validate_form(report_type: ReportType, form: ReportParametersForm,
                  *, posted_names: Iterable[str] = ()) -> Parameters:
    """Validate a bound parameters form (the editor's); errors stay on its fields.

    Raises ParametersError for unknown posted names or invalid values.
    """
    known = set(form.data)
    # A repeated sub-form (FieldList) posts "<name>-<index>-<field>" for its entries.
    lists = {name for name, f in form._fields.items() if isinstance(f, FieldList)}
    unknown = sorted(n for n in set(posted_names) - known if n.partition("-")[0] not in lists)
    if unknown:
        raise ParametersError({"": [f"{report_type.label} has no parameter “{unknown[0]}”."]})
    if not (form.validate() and form.validate_parameters()):
        raise ParametersError(_errors_of(form))
    return form.parameters()


@dataclass(frozen=True)
class DefinitionWords:
    """A definition as the job page says it: its report, its parameters in words, and the
    newer version of its report type when there is one (None otherwise)."""

    label: str
    parameters: list[tuple[str, str]]
    newer_version: int | None = None


def describe_definition(task_type: str, version: int, parameters: Mapping[str, Any],
                        locale: str | None = None) -> DefinitionWords:
    """The parameters in words (values in `locale`), upgraded as a run would read them; a type
    this code does not know (or cannot upgrade) shows its stored names and values as they are."""
    try:
        report_type = get_report_type(task_type)
        words = report_type.describe(report_type.upgrade(version, parameters), locale)
    except ReportError:
        raw = [(name.replace("_", " ").capitalize(),
                ", ".join(map(str, value)) if isinstance(value, list) else str(value))
               for name, value in parameters.items() if value not in (None, "", [])]
        return DefinitionWords(task_type, raw)
    newer = report_type.version if version < report_type.version else None
    return DefinitionWords(report_type.label, words, newer)


def current_parameters(task_type: str, version: int, parameters: Mapping[str, Any]) -> Parameters:
    """A definition's parameters at its report type's current version. Raises ReportError."""
    return get_report_type(task_type).upgrade(version, parameters)
