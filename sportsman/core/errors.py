"""Domain errors: every refusal carries a stable machine code and a translated message.

Services raise these; the API turns them into the one error shape
``{"code": ..., "message": ..., "fields": {...}}`` and pages show ``message``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A refusal a user can understand. ``status`` is the HTTP status the API answers with."""

    status = 400
    code = "invalid"
    default_message: Any = _("The request is not valid.")

    def __init__(
        self,
        message: Any = None,
        *,
        code: str | None = None,
        fields: dict[str, Any] | None = None,
        status: int | None = None,
    ) -> None:
        self.message = message if message is not None else self.default_message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.fields = fields or {}
        super().__init__(str(self.message))

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": str(self.message),
            "fields": {k: [str(m) for m in v] if isinstance(v, list | tuple) else str(v)
                       for k, v in self.fields.items()},
        }


class InvalidInput(DomainError):
    status = 400
    code = "invalid"


def bad_field(field: str, message: Any, code: str = "invalid") -> InvalidInput:
    """The refusal of one field's value: its message is the request's and the field's."""
    return InvalidInput(message, code=code, fields={field: [message]})


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"
    default_message = _("Please log in first.")


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    default_message = _("You may not do this here.")


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = _("Not found.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = _("This conflicts with the current state.")


class Throttled(DomainError):
    status = 429
    code = "throttled"
    default_message = _("Too many attempts. Please wait and try again.")

    def __init__(self, message: Any = None, *, retry_after: int = 60, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RowProblem:
    """One bad cell of an imported file: its row as a spreadsheet shows it (the header is
    row 1), the column, and a translated reason."""

    row: int
    column: str
    reason: Any

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.reason}"


class BadFile(InvalidInput):
    """An imported file with bad rows. ``problems`` lists every one; nothing was loaded.
    Subclasses name their ``code`` and ``default_message``."""

    code = "file_invalid"
    default_message = _("The file has bad rows; nothing was loaded.")

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        fields: dict[str, list[str]] = {}
        for p in problems:
            fields.setdefault(f"row {p.row}", []).append(f"{p.column}: {p.reason}")
        super().__init__(fields=fields)
        self.problems = list(problems)
