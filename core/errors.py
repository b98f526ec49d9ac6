"""Typed application errors, mapped to HTTP in one place."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """A rule of the domain was broken; the message is for a person to act on."""

    http_status = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, code: str = "invalid", extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra or {}


class NotAllowed(ApplicationError):
    http_status = status.HTTP_403_FORBIDDEN


class Conflict(ApplicationError):
    http_status = status.HTTP_409_CONFLICT


def api_exception_handler(exc, context):
    if isinstance(exc, ApplicationError):
        response = exception_handler(exceptions.APIException(exc.message), context)
        response.status_code = exc.http_status
        response.data = {"detail": exc.message, "code": exc.code, **exc.extra}
        return response
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    return exception_handler(exc, context)
