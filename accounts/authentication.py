"""The REST API's authentication: personal API keys as `Authorization: Bearer <key>`, next to the
browser's session (DRF's SessionAuthentication, which enforces CSRF). Set as the default in settings,
so every API view — and any app added later — accepts the same keys."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts import api_keys, throttle


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None  # not ours: the session may authenticate
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the key as: Authorization: Bearer <key>.")
        if throttle.is_blocked(request._request):
            raise exceptions.Throttled(detail=throttle.blocked_message())
        try:
            raw = header[1].decode()
        except UnicodeDecodeError:
            raw = ""
        user = api_keys.user_for(raw)
        if user is None:
            throttle.record_failure(request._request)
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        return user, None

    def authenticate_header(self, request):
        return f'{self.keyword} realm="api"'


class ApiKeySchema(OpenApiAuthenticationExtension):
    """How the OpenAPI schema (and Swagger's "Authorize") describes the keys."""

    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "A personal API key (smp_live_…) from /accounts/api-keys/."}
