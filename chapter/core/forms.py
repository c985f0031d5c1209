"""Form helpers shared by features."""
from wtforms import Field

from chapter.core.errors import DomainError


def attach_domain_error(form, error: DomainError) -> None:
    """Show a service's refusal next to the field it names, or above the form."""
    field: Field | None = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = list(field.errors) + [error.message]
    else:
        form.form_errors.append(error.message)


def strip_filter(value):
    """WTForms filter: trim surrounding whitespace from text input."""
    return value.strip() if isinstance(value, str) else value
