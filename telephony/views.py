"""Telephony pages: calls (list, detail, recording, notes, CSV), the agent's own line, click-to-call,
live calls and the screen pop. (Connections, the Smartflo wizard and imports: connection_views.py.)
Thin: selectors read, services write."""

import csv

from django import forms
from django.conf import settings
from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from core.errors import ApplicationError
from core.pagination import MAX_PAGE
from telephony import agents, charts, live, recordings, selectors, services
from telephony.models import AgentLine, Call

PAGE_SIZE = 50


# ---------------------------------------------------------------- calls


class CallFilterForm(forms.Form):
    direction = forms.ChoiceField(choices=[("", "Any direction"), *Call.Direction.choices], required=False)
    status = forms.ChoiceField(
        choices=[("", "Any status"), *[(v, l) for v, l in Call.Status.choices if v in Call.OUTCOMES]], required=False
    )
    agent = forms.ModelChoiceField(queryset=User.objects.filter(is_active=True), required=False, empty_label="Any agent")
    number = forms.CharField(required=False, max_length=40, widget=forms.TextInput(attrs={"placeholder": "Number, any format", "type": "search"}))
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def filters(self) -> selectors.CallFilters:
        data = self.cleaned_data if self.is_valid() else {}
        agent = data.get("agent")
        return selectors.CallFilters(
            direction=data.get("direction", ""), status=data.get("status", ""), agent=agent.pk if agent else None,
            number=data.get("number", ""), date_from=data.get("date_from"), date_to=data.get("date_to"),
        )


@require_GET
def call_list(request):
    form = CallFilterForm(request.GET or None)
    calls = selectors.filtered_calls(request.user, form.filters())
    try:
        page = min(max(1, int(request.GET.get("page", 1))), MAX_PAGE)
    except ValueError:
        page = 1
    rows = list(calls[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1])
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "telephony/calls.html", {
        "form": form,
        "calls": rows[:PAGE_SIZE],
        "page": page,
        "has_next": len(rows) > PAGE_SIZE,
        "query": query.urlencode(),
        "agents": selectors.agent_counts(calls),
        "chart": charts.calls_per_day(selectors.per_day(calls)),
        "is_admin": request.user.is_admin_role,
        "sandbox": settings.SANDBOX_ENABLED,
        "can_watch_live": live.can_act_on_calls(request.user),
    })


def _csv_rows(calls):
    yield ["started (local)", "direction", "status", "customer", "contact", "our number", "agent", "duration s",
           "talk time s", "hangup cause", "meaning", "call id"]
    for call in calls.iterator(chunk_size=500):
        yield [
            timezone.localtime(call.started_at).strftime("%Y-%m-%d %H:%M:%S") if call.started_at else "",
            call.direction, call.status, call.customer_number, _safe_cell(str(call.contact or "")), call.did_number,
            _safe_cell(str(call.agent or call.agent_name or "")), call.duration if call.duration is not None else "",
            call.talk_time if call.talk_time is not None else "", call.hangup_cause, call.hangup_meaning, call.provider_call_id,
        ]


def _safe_cell(text: str) -> str:
    """A cell a spreadsheet would run as a formula gets a leading apostrophe."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value):
        return value


@require_GET
def call_export(request):
    form = CallFilterForm(request.GET or None)
    calls = selectors.filtered_calls(request.user, form.filters())
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(row) for row in _csv_rows(calls)), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="calls-{timezone.localdate():%Y-%m-%d}.csv"'
    return response


def _visible_call(request, pk) -> Call:
    return get_object_or_404(selectors.visible_calls(request.user).select_related("agent", "contact", "connection"), pk=pk)


@require_GET
def call_detail(request, pk):
    call = _visible_call(request, pk)
    return render(request, "telephony/call.html", {"call": call, "notes": call.notes.select_related("author"),
                                                   "actions": call.actions.select_related("by")})


@require_GET
def recording(request, pk):
    """Our copy of the recording, to the people who may see the call. Served as audio only (the type
    comes from the file's bytes), never sniffed into anything a browser would run."""
    call = _visible_call(request, pk)
    if call.recording_status != Call.Recording.READY or not call.recording or not call.recording_mime.startswith("audio/"):
        raise Http404("No recording has been downloaded for this call.")
    response = FileResponse(call.recording.open("rb"), content_type=call.recording_mime)
    response["Content-Disposition"] = f'inline; filename="call-{call.pk}{recordings.AUDIO_TYPES.get(call.recording_mime, "")}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_POST
def recording_retry(request, pk):
    call = _visible_call(request, pk)
    if call.recording_url and call.recording_status == Call.Recording.FAILED:
        recordings.retry(call)
        flash.success(request, "The recording is being downloaded again.")
    return redirect(call)


@require_POST
def note_add(request, pk):
    call = _visible_call(request, pk)
    try:
        services.add_note(call, by=request.user, body=request.POST.get("body", ""))
    except ApplicationError as exc:
        flash.error(request, exc.message)
    next_url = request.POST.get("next", "")
    if next_url.startswith("/") and not next_url.startswith("//"):
        return redirect(next_url)
    return redirect(call)


@require_GET
def message_on_whatsapp(request, pk):
    """From a missed call: the contact's WhatsApp conversation if there is one (its composer knows the
    24-hour window and offers templates), else the page that starts one with a template."""
    call = _visible_call(request, pk)
    if call.contact is None:
        raise Http404("This call has no contact.")
    from inbox.models import Channel
    from inbox.selectors import visible_conversations

    conversation = (
        visible_conversations(request.user).filter(contact=call.contact, channel__kind=Channel.Kind.WHATSAPP, channel__is_active=True)
        .order_by("-last_message_at").first()
    )
    if conversation:
        return redirect(reverse("inbox:conversation", args=[conversation.pk]))
    try:
        return redirect(reverse("outbound:start", args=[call.contact_id]))
    except NoReverseMatch:
        return redirect(call.contact)


# ---------------------------------------------------------------- the agent's own line


def my_line(request):
    """The user's own profile: how Smartflo reaches them (agent id, extension, mobile)."""
    line = agents.line_of(request.user)
    error = ""
    if request.method == "POST":
        try:
            agents.save_own_line(request.user, **{k: request.POST.get(k, "") for k in ("agent_id", "extension", "mobile")})
            flash.success(request, "Your phone line is saved.")
            return redirect("telephony:me")
        except ApplicationError as exc:
            error = exc.message
    return render(request, "telephony/me.html", {"line": line, "error": error, "posted": request.POST}, status=422 if error else 200)


# ---------------------------------------------------------------- click-to-call, live calls, screen pop


def _wants_json(request) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _back(request, fallback="telephony:calls"):
    next_url = request.POST.get("next", "")
    if next_url.startswith("/") and not next_url.startswith("//"):
        return redirect(next_url)
    return redirect(fallback)


@require_POST
def click_to_call(request):
    try:
        call = live.click_to_call(request.user, request.POST.get("number", ""), caller_id=request.POST.get("caller_id", ""))
    except ApplicationError as exc:
        if _wants_json(request):
            return JsonResponse({"ok": False, "message": exc.message, "code": exc.code}, status=422)
        flash.error(request, exc.message)
        return _back(request)
    message = "Your phone is ringing: answer it, then Smartflo calls the customer."
    if _wants_json(request):
        return JsonResponse({"ok": True, "message": message, "call": {"id": call.pk, "url": call.get_absolute_url(), "status": call.status}})
    flash.success(request, message)
    return _back(request)


@require_GET
def call_state(request, pk):
    """A call's status, for a button's popover that follows its click-to-call; while the call is live
    the popover's fetch also marks its account as watched (the poll stays one per account)."""
    call = _visible_call(request, pk)
    if call.status in live.LIVE_STATES and call.connection is not None:
        live.ping(call.connection)
    return JsonResponse({"id": call.pk, "status": call.status, "label": call.get_status_display()})


def _supervisor(request):
    if not live.can_act_on_calls(request.user):
        raise PermissionDenied("Live calls are for supervisors and admins.")


@require_GET
def live_page(request):
    _supervisor(request)
    connection = live.calling_connection()
    if connection is not None:
        live.ping(connection)
    calls, snapshot = live.live_calls(connection) if connection else ([], {})
    return render(request, "telephony/live.html", {
        "connection": connection, "calls": calls, "snapshot": snapshot, "targets": live.transfer_targets(),
        "poll_seconds": live.poll_seconds(),
    })


@require_GET
def live_rows(request):
    """The live table's body, refetched when a poll's snapshot or a call changes (and pinged: the
    page's fetch marks the account as watched)."""
    _supervisor(request)
    connection = live.calling_connection()
    if connection is None:
        raise Http404("No Smartflo account is connected.")
    live.ping(connection)
    calls, snapshot = live.live_calls(connection)
    return render(request, "telephony/_live_rows.html", {"calls": calls, "snapshot": snapshot, "targets": live.transfer_targets()})


@require_POST
def call_action(request, pk):
    call = _visible_call(request, pk)
    kind = request.POST.get("kind", "")
    target = request.POST.get("intercom") or request.POST.get("target", "")
    try:
        action = live.act(call, kind, by=request.user, target=target)
        ok, message = True, f"{action.get_kind_display()}: {action.result}"
    except ApplicationError as exc:
        ok, message = False, exc.message
    if _wants_json(request):
        return JsonResponse({"ok": ok, "message": message}, status=200 if ok else 422)
    (flash.success if ok else flash.error)(request, message)
    return _back(request, fallback="telephony:live")


@require_GET
def screen_pop(request, pk):
    """The caller's card for the agent whose phone rings: contact (or "new number"), open
    conversations and last calls."""
    call = _visible_call(request, pk)
    contact = call.contact
    conversations, last_calls = [], []
    if contact is not None:
        from inbox.selectors import visible_conversations

        conversations = list(visible_conversations(request.user).filter(contact=contact).exclude(status="resolved")
                             .select_related("channel").order_by("-last_message_at")[:3])
        last_calls = list(selectors.visible_calls(request.user).filter(contact=contact).exclude(pk=call.pk)
                          .order_by("-started_at")[:3])
    is_new = contact is None or (not contact.name and not last_calls and not conversations)
    return render(request, "telephony/_screen_pop.html", {"call": call, "contact": contact, "conversations": conversations,
                                                           "last_calls": last_calls, "is_new": is_new})


@require_POST
def watch(request):
    """Every page of a user with a phone line says "I am here" now and then, so the account's live
    calls are polled (one poll per account, whatever the number of pages) and their calls pop up."""
    connection = live.calling_connection()
    if connection is not None and AgentLine.objects.filter(user=request.user).exists():
        live.ping(connection)
    return JsonResponse({"ok": True})
