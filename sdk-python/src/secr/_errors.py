from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple


@dataclass(frozen=True)
class FieldError:
    """One problem with one field of a request the API rejected (``validation_failed``)."""

    field: str
    message: str


class SecrApiError(Exception):
    """Every failure of the SDK: an error answer of the API, a time-out or a network failure.

    ``status_code`` is the HTTP status, or 0 when no answer came (``code`` is then ``network_error``
    or ``timeout``). ``code`` is the API's error code (``unauthorized``, ``forbidden``, ``not_found``,
    ``validation_failed``, ``conflict``, ``rate_limited``, ...). ``request_id`` names the request in
    the server's logs when the server answered. The message never holds a secret value or a token.
    """

    message: str
    status_code: int
    code: str
    request_id: Optional[str]
    errors: List[FieldError]

    def __init__(
        self,
        message: str,
        status_code: int,
        code: str,
        *,
        request_id: Optional[str] = None,
        errors: Optional[List[FieldError]] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.request_id = request_id
        self.errors = list(errors) if errors else []

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"SecrApiError(message={self.message!r}, status_code={self.status_code!r}, "
            f"code={self.code!r}, request_id={self.request_id!r})"
        )

    def __reduce__(self) -> Tuple[Any, ...]:
        # Picklable (multiprocessing, celery) with its keyword-only details.
        details: Dict[str, Any] = {"request_id": self.request_id, "errors": self.errors}
        return (_rebuild, (self.message, self.status_code, self.code, details))


def _rebuild(message: str, status_code: int, code: str, details: Dict[str, Any]) -> SecrApiError:
    return SecrApiError(message, status_code, code, **details)
