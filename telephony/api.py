"""REST API v2: telephony connections, in the shape of docs/reference/telephony-connections-api.txt.

`POST /api/v2/telephony/connections` (create), `GET` (list), `GET/PATCH/DELETE …/connections/{id}`,
`POST …/connections/{id}/default`. Answers `{"success": true, "data": {...}}`; failures
`{"success": false, "error": {"code", "message", "fields"}}`. Admins only. Authentication is the REST
API's own (DEFAULT_AUTHENTICATION_CLASSES). Secrets are accepted, stored encrypted, never returned.
"""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import OpenApiTypes, extend_schema
from rest_framework import status as http
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Team
from telephony import connections
from telephony.models import TelephonyConnection


class IsAdminRole(BasePermission):
    message = "Only admins manage telephony connections."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_admin_role)


def connection_json(connection: TelephonyConnection) -> dict:
    """The reference's connection object, plus what our UI needs (never a secret)."""
    return {
        "id": str(connection.pk),
        "connection_id": str(connection.pk),
        "provider": connection.provider,
        "provider_key": connection.provider_key,
        "name": connection.name,
        "status": connection.status,
        "is_default": connection.is_default,
        "phone_numbers": list(connection.phone_numbers),
        "features": connection.features,
        "status_url": connection.status_url if connection.is_smartflo else None,
        "team": connection.team_id,
        "created_at": connection.created_at,
    }


def _ok(data: dict, status: int = http.HTTP_200_OK) -> Response:
    return Response({"success": True, "data": data}, status=status)


def _fail(code: str, message: str, status: int, fields: dict | None = None) -> Response:
    error = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return Response({"success": False, "error": error}, status=status)


def _invalid(exc: ValidationError) -> Response:
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
    first = next(iter(fields.items()))
    return _fail("validation_error", f"{first[0]}: {first[1][0]}", http.HTTP_400_BAD_REQUEST, fields)


def _team(data):
    if "team" not in data or data["team"] in (None, ""):
        return None
    team = Team.objects.filter(pk=data["team"]).first() if str(data["team"]).isdigit() else None
    if team is None:
        raise ValidationError({"team": ["No such team."]})
    return team


class ConnectionsView(APIView):
    permission_classes = [IsAuthenticated, IsAdminRole]

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="List telephony connections")
    def get(self, request):
        return _ok({"connections": [connection_json(c) for c in TelephonyConnection.objects.all()]})

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT, summary="Create a telephony connection")
    def post(self, request):
        data = request.data if isinstance(request.data, dict) else {}
        if not isinstance(request.data, dict):
            return _fail("validation_error", "The body must be a JSON object.", http.HTTP_400_BAD_REQUEST)
        try:
            body = {k: v for k, v in data.items() if k != "provider"}
            team = _team(body)
            body.pop("team", None)
            connection = connections.create(by=request.user, provider=data.get("provider"), data=body, team=team)
        except ValidationError as exc:
            return _invalid(exc)
        return _ok({"connection": connection_json(connection)}, http.HTTP_201_CREATED)


class ConnectionView(APIView):
    permission_classes = [IsAuthenticated, IsAdminRole]

    def _get(self, pk):
        return TelephonyConnection.objects.filter(pk=pk).first()

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Get a telephony connection")
    def get(self, request, pk):
        connection = self._get(pk)
        if connection is None:
            return _fail("not_found", "No such connection.", http.HTTP_404_NOT_FOUND)
        return _ok({"connection": connection_json(connection)})

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT, summary="Update a telephony connection")
    def patch(self, request, pk):
        connection = self._get(pk)
        if connection is None:
            return _fail("not_found", "No such connection.", http.HTTP_404_NOT_FOUND)
        if not isinstance(request.data, dict):
            return _fail("validation_error", "The body must be a JSON object.", http.HTTP_400_BAD_REQUEST)
        try:
            body = dict(request.data)
            if "team" in body:
                body["team"] = _team(body)
            connection = connections.update(connection, by=request.user, data=body)
        except ValidationError as exc:
            return _invalid(exc)
        return _ok({"connection": connection_json(connection)})

    put = patch

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Delete a telephony connection")
    def delete(self, request, pk):
        connection = self._get(pk)
        if connection is None:
            return _fail("not_found", "No such connection.", http.HTTP_404_NOT_FOUND)
        connections.delete(connection, by=request.user)
        return _ok({"deleted": str(pk)})


class DefaultConnectionView(APIView):
    permission_classes = [IsAuthenticated, IsAdminRole]

    @extend_schema(request=None, responses=OpenApiTypes.OBJECT, summary="Make a telephony connection the default")
    def post(self, request, pk):
        connection = TelephonyConnection.objects.filter(pk=pk).first()
        if connection is None:
            return _fail("not_found", "No such connection.", http.HTTP_404_NOT_FOUND)
        return _ok({"connection": connection_json(connections.make_default(connection, by=request.user))})
