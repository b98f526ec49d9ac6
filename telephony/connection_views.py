"""Admin pages for telephony connections: the list, the Smartflo wizard, the connection test, the
import of previous calls and of Smartflo's agents. Thin: services write."""

import datetime

from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from core.errors import ApplicationError
from telephony import agents, connections, services
from telephony.models import AgentLine, CallImport, Provider, TelephonyConnection
from telephony.providers import smartflo


# ---------------------------------------------------------------- connections and the wizard (admins)


def _admin(request):
    if not request.user.is_admin_role:
        raise PermissionDenied("Only admins manage telephony connections.")


@require_GET
def connection_list(request):
    _admin(request)
    return render(request, "telephony/connections.html", {"connections": TelephonyConnection.objects.select_related("team")})


WIZARD_STEPS = ["account", "token", "urls", "api_key", "test"]


def connection_new(request):
    """Phase 1: provider and account name."""
    _admin(request)
    error = ""
    if request.method == "POST":
        name = request.POST.get("name", "").strip()
        provider = request.POST.get("provider", "")
        if provider != Provider.TATA_SMARTFLO:
            error = "The wizard connects Tata Smartflo accounts; other providers are added through the connections API."
        elif not name or len(name) > 100:
            error = "Give the account a name (1–100 characters)."
        else:
            connection = TelephonyConnection(provider=provider, name=name, status=TelephonyConnection.Status.PENDING, created_by=request.user)
            connection.is_default = not TelephonyConnection.objects.filter(is_default=True).exists()
            connection.save()
            return redirect(reverse("telephony:setup", args=[connection.pk]) + "?step=token")
    return render(request, "telephony/wizard.html", {"step": "account", "steps": WIZARD_STEPS, "error": error,
                                                      "providers": Provider.choices, "data": request.POST})


def connection_setup(request, pk):
    """Phases 2–5: Authorization Token → the URLs to paste → API Key → Test connection."""
    _admin(request)
    connection = get_object_or_404(TelephonyConnection, pk=pk, provider=Provider.TATA_SMARTFLO)
    step = request.GET.get("step") or request.POST.get("step") or "token"
    if step not in WIZARD_STEPS[1:]:
        step = "token"
    error = ""
    if request.method == "POST":
        data = {}
        if step == "token":
            data = {k: request.POST.get(k, "") for k in ("auth_token", "tata_email", "tata_password", "base_url")}
            if not data["auth_token"] and not (data["tata_email"] and data["tata_password"]) and not connection.auth_token:
                error = "Paste the Authorization Token (or give the panel email and password)."
        elif step == "api_key":
            data = {"api_key": request.POST.get("api_key", "")}
        if not error:
            try:
                connections.update(connection, by=request.user, data={k: v for k, v in data.items() if v}, check_required=False)
            except connections.ValidationError as exc:
                error = " ".join(m for messages in exc.message_dict.values() for m in messages)
        if step == "test" and not error:
            services.test_connection(connection)
            return redirect(reverse("telephony:setup", args=[connection.pk]) + "?step=test")
        if not error:
            following = WIZARD_STEPS[WIZARD_STEPS.index(step) + 1]
            return redirect(reverse("telephony:setup", args=[connection.pk]) + f"?step={following}")
    return render(request, "telephony/wizard.html", {
        "step": step, "steps": WIZARD_STEPS, "connection": connection, "error": error, "posted": request.POST,
        "voice_url_example": connection.outbound_voice_url.replace("{telephony_id}", "<telephony id>"),
    })


@require_POST
def connection_test(request, pk):
    _admin(request)
    connection = get_object_or_404(TelephonyConnection, pk=pk)
    result = services.test_connection(connection)
    (flash.success if result["ok"] else flash.error)(request, "Connection works." if result["ok"] else "Some checks failed; see below.")
    return redirect(reverse("telephony:setup", args=[connection.pk]) + "?step=test")


# ---------------------------------------------------------------- previous calls


def _parse_date(value: str, default: datetime.date) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value) if value else default
    except ValueError:
        raise ApplicationError(f"“{value}” is not a date (YYYY-MM-DD).") from None


def connection_import(request, pk):
    _admin(request)
    connection = get_object_or_404(TelephonyConnection, pk=pk)
    today = timezone.localdate()
    error = ""
    if request.method == "POST":
        try:
            start = _parse_date(request.POST.get("from", ""), today - datetime.timedelta(days=30))
            end = _parse_date(request.POST.get("to", ""), today)
            tz = timezone.get_current_timezone()
            job = services.start_import(
                connection, by=request.user,
                from_date=datetime.datetime.combine(start, datetime.time.min, tzinfo=tz),
                to_date=min(timezone.now(), datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)),
            )
            return redirect(reverse("telephony:import", args=[connection.pk]) + f"?job={job.pk}")
        except ApplicationError as exc:
            error = exc.message
    jobs = CallImport.objects.filter(connection=connection, is_sync=False)[:10]
    return render(request, "telephony/import.html", {
        "connection": connection, "jobs": jobs, "error": error,
        "default_from": today - datetime.timedelta(days=30), "default_to": today,
    }, status=422 if error else 200)


@require_GET
def import_progress(request, pk):
    _admin(request)
    job = get_object_or_404(CallImport, pk=pk)
    return render(request, "telephony/_import_row.html", {"job": job})


@require_POST
def import_resume(request, pk):
    _admin(request)
    job = get_object_or_404(CallImport, pk=pk)
    if job.status == CallImport.Status.FAILED:
        services.resume_import(job, by=request.user)
    return redirect(reverse("telephony:import", args=[job.connection_id]))


# ---------------------------------------------------------------- agents from Smartflo


def connection_agents(request, pk):
    """Import agents from Smartflo's users API: each agent with the user it most likely is; the admin
    confirms (or corrects) each match, and only confirmed rows are saved."""
    _admin(request)
    connection = get_object_or_404(TelephonyConnection, pk=pk, provider=Provider.TATA_SMARTFLO)
    if request.method == "POST":
        rows = []
        for index in range(int(request.POST.get("count", 0) or 0)):
            prefix = f"row-{index}-"
            if request.POST.get(prefix + "confirm") and request.POST.get(prefix + "user"):
                rows.append({k: request.POST.get(prefix + k, "") for k in ("user", "agent_id", "extension", "mobile")})
        try:
            written = agents.apply(rows, by=request.user)
            flash.success(request, f"{written} agent line(s) saved.")
        except ApplicationError as exc:
            flash.error(request, exc.message)
        return redirect(reverse("telephony:agents", args=[connection.pk]))
    error, proposals = "", []
    try:
        proposals = agents.propose(connection, by=request.user)
    except smartflo.SmartfloError as exc:
        error = services.explain(exc, "agents")
    return render(request, "telephony/agents.html", {
        "connection": connection, "proposals": proposals, "error": error,
        "users": User.objects.filter(is_active=True), "lines": AgentLine.objects.select_related("user").order_by("user__first_name"),
    })
