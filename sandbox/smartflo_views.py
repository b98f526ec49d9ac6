"""Views of the pretend Smartflo: its HTTP API, the recordings it links to, and the phone page where
a person rings a sandbox DID and answers as an agent (or lets it go missed)."""

import json
from functools import wraps

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core import phones
from sandbox import smartflo, smartflo_stream, smartflo_support
from sandbox.models import SandboxCall
from sandbox.views import sandbox_only
from telephony.models import AgentLine


def _answer(exc: smartflo.SmartfloSandboxError) -> JsonResponse:
    response = JsonResponse(exc.body, status=exc.status)
    for name, value in exc.headers.items():
        response[name] = value
    return response


def _recording_url(request):
    return lambda call: request.build_absolute_uri(reverse("sandbox:smartflo_recording", args=[smartflo.recording_token(call)]))


def smartflo_api(view):
    @csrf_exempt
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not settings.SANDBOX_ENABLED:
            raise Http404("The sandbox is off.")
        try:
            connection = smartflo.connection_for(request.headers.get("Authorization"))
            smartflo.rate_limit(str(connection.pk))
            return view(request, connection, *args, **kwargs)
        except smartflo.SmartfloSandboxError as exc:
            return _answer(exc)

    return wrapper


@csrf_exempt
@require_POST
def login(request):
    if not settings.SANDBOX_ENABLED:
        raise Http404("The sandbox is off.")
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = {}
    try:
        if not isinstance(body, dict):
            raise smartflo.SmartfloSandboxError(422, {"success": False, "message": "email and password are required"})
        return JsonResponse(smartflo.login(str(body.get("email", "")), str(body.get("password", ""))))
    except smartflo.SmartfloSandboxError as exc:
        return _answer(exc)


@smartflo_api
@require_GET
def my_number(request, connection):
    return JsonResponse(smartflo.numbers(connection), safe=False)


@smartflo_api
@require_GET
def users(request, connection):
    return JsonResponse({"data": smartflo.users()})


@smartflo_api
@require_GET
def call_records(request, connection):
    return JsonResponse(smartflo.call_records(connection, request.GET, _recording_url(request)))


def recording(request, token):
    if not settings.SANDBOX_ENABLED:
        raise Http404("The sandbox is off.")
    if smartflo.call_for_recording(token) is None:
        return JsonResponse({"message": "Link expired"}, status=403)
    return HttpResponse(smartflo.recording_wav(), content_type="audio/wav")


# ---------------------------------------------------------------- the phone page


@sandbox_only
@require_http_methods(["GET", "POST"])
def phone(request):
    connections = list(smartflo.sandbox_connections())
    context = {"connections": connections, "lines": AgentLine.objects.select_related("user").order_by("user__first_name"),
               "error": "", "recent": SandboxCall.objects.filter(connection__in=connections).order_by("-started_at")[:8]}
    if request.method == "POST":
        connection = next((c for c in connections if str(c.pk) == request.POST.get("connection")), None)
        customer = phones.try_e164(request.POST.get("caller", ""))
        did = request.POST.get("did", "")
        if connection is None:
            context["error"] = "Choose a sandbox Smartflo account."
        elif customer is None:
            context["error"] = "The caller's number is not a valid phone number."
        elif did not in (connection.phone_numbers or smartflo.SANDBOX_DIDS):
            context["error"] = "Choose one of the account's numbers."
        else:
            call = smartflo.ring(connection, customer, did)
            return redirect("sandbox:smartflo_call", pk=call.pk)
    return render(request, "sandbox/phone.html", context, status=422 if context["error"] else 200)


@sandbox_only
@require_http_methods(["GET", "POST"])
def phone_call(request, pk):
    call = get_object_or_404(SandboxCall.objects.select_related("connection"), pk=pk)
    action = request.POST.get("action")
    if request.method == "POST" and action == "answer":
        line = AgentLine.objects.select_related("user").filter(pk=request.POST.get("line") or 0).first()
        smartflo.answer(call, line)
    elif request.method == "POST" and action in ("hangup", "miss"):
        smartflo.hang_up(call, _status_url(request, call.connection), _recording_url(request))
    if request.method == "POST":
        return redirect("sandbox:smartflo_call", pk=call.pk)
    if call.is_click_to_call:
        return redirect("sandbox:smartflo_handset", pk=call.pk, side="agent")
    return render(request, "sandbox/phone_call.html", {"call": call, "lines": AgentLine.objects.select_related("user").order_by("user__first_name")})


def _json_body(request):
    try:
        return json.loads(request.body or b"{}")
    except ValueError:
        return None


def _status_url(request, connection):
    return connection.status_url.replace(settings.PUBLIC_BASE_URL, request.build_absolute_uri("/").rstrip("/"))


@smartflo_api
@require_POST
def click_to_call(request, connection):
    return JsonResponse(smartflo.click_to_call(connection, _json_body(request)))


@smartflo_api
@require_GET
def live_calls(request, connection):
    return JsonResponse(smartflo.live_calls(connection, request.GET.get("agent_number", "")))


@smartflo_api
@require_POST
def call_options(request, connection):
    return JsonResponse(smartflo.call_operation(connection, _json_body(request)))


@smartflo_api
@require_POST
def call_hangup(request, connection):
    return JsonResponse(smartflo.hangup_api(connection, _json_body(request), _status_url(request, connection), _recording_url(request)))


@csrf_exempt
@require_POST
def click_to_call_support(request):
    """Authenticated by the Click to Call Support API key in the body, as Smartflo's is."""
    if not settings.SANDBOX_ENABLED:
        raise Http404("The sandbox is off.")
    try:
        return JsonResponse(smartflo_support.click_to_call_support(_json_body(request)))
    except smartflo.SmartfloSandboxError as exc:
        return _answer(exc)


@sandbox_only
@require_GET
def heard(request, pk):
    """What Sampark played on a streamed call so far (the sandbox customer phone plays it)."""
    wav = smartflo_stream.heard_wav(pk)
    if wav is None:
        raise Http404("Nothing heard on this call yet.")
    return HttpResponse(wav, content_type="audio/wav")


@sandbox_only
@require_http_methods(["GET", "POST"])
def handset(request, pk, side):
    """The sandbox "agent phone" or "customer phone" of a click-to-call: answer, reject, hang up.
    A streamed call (click-to-call-support) has the customer phone only, with a keypad."""
    if side not in ("agent", "customer"):
        raise Http404("No such phone.")
    call = get_object_or_404(SandboxCall.objects.select_related("connection"), pk=pk)
    if call.is_streamed:
        return _stream_handset(request, call)
    if request.method == "POST":
        smartflo.phone_action(call, side, request.POST.get("action", ""), _status_url(request, call.connection), _recording_url(request))
        return redirect("sandbox:smartflo_handset", pk=call.pk, side=side)
    return render(request, "sandbox/handset.html", {"call": call, "side": side})


def _stream_handset(request, call):
    if request.method == "POST":
        smartflo_support.stream_action(call, request.POST.get("action", ""), request.POST.get("digit", ""), request.build_absolute_uri("/"),
                               _status_url(request, call.connection), _recording_url(request))
        return redirect("sandbox:smartflo_handset", pk=call.pk, side="customer")
    return render(request, "sandbox/stream_handset.html", {"call": call, "session": smartflo_stream.session_of(call.pk),
                                                           "keys": "123456789*0#"})
