"""Domain errors raised by services and turned into messages by views."""


class DomainError(Exception):
    """A business rule refused the request; `field` names the form field at fault, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotAllowed(DomainError):
    """The acting user may not do this to this object."""


class InvalidState(DomainError):
    """The object is not in a state that allows this (already published, already cancelled...): a conflict."""
