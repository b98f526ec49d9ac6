"""Pages of the automated calls: campaigns of confirmation / reminder calls (supervisors and admins)."""

from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.selectors import assignable_users, can_manage_contacts_in_bulk
from campaigns.services import AUDIENCE_FILTERS, audience_chosen, recipient_count
from contacts.models import Label
from core.errors import ApplicationError
from telephony import automated
from telephony.live import calling_connection
from telephony.models import CallCampaign


def _bulk_only(request):
    if not can_manage_contacts_in_bulk(request.user):
        raise PermissionDenied("Only supervisors and admins run automated calls.")


@require_GET
def campaign_list(request):
    _bulk_only(request)
    campaigns = CallCampaign.objects.select_related("created_by")[:100]
    return render(request, "telephony/automated_list.html", {"campaigns": [(c, automated.progress(c)) for c in campaigns]})


@require_http_methods(["GET", "POST"])
def campaign_new(request):
    _bulk_only(request)
    source = request.POST if request.method == "POST" else request.GET
    connection = calling_connection()
    filters = {k: source.get(k, "") for k in (*AUDIENCE_FILTERS, "everyone")}
    context = {
        "connection": connection, "filters": filters, "labels": Label.objects.all(), "owners": assignable_users(request.user),
        "kinds": CallCampaign.Kind.choices, "audience_chosen": audience_chosen(filters),
        "count": recipient_count(request.user, filters), "form": source, "error": "",
    }
    if request.method == "POST":
        try:
            upload = request.FILES.get("prompt")
            prompt = automated.prompt_from_upload(upload) if upload else b""
            campaign = automated.start(
                by=request.user, name=source.get("name", ""), kind=_kind(source.get("kind")), connection=connection,
                caller_id=source.get("caller_id", ""), prompt=prompt, prompt_name=upload.name if upload else "",
                transfer_to=source.get("transfer_to", ""), filters=filters, calls_per_minute=_int(source.get("calls_per_minute"), 10),
            )
        except ApplicationError as exc:
            context["error"] = exc.message
            return render(request, "telephony/automated_form.html", context, status=422)
        return redirect("telephony:automated_detail", campaign.pk)
    return render(request, "telephony/automated_form.html", context)


def _kind(value) -> str:
    return value if value in CallCampaign.Kind.values else CallCampaign.Kind.CONFIRMATION


def _int(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _context(request, pk):
    _bulk_only(request)
    campaign = get_object_or_404(CallCampaign.objects.select_related("connection", "created_by"), pk=pk)
    page = Paginator(campaign.calls.select_related("contact", "call").order_by("pk"), 100).get_page(request.GET.get("page"))
    rows = [(row, result, automated.RESULT_WORDS[result]) for row in page.object_list for result in [automated.result_of(row)]]
    return {"campaign": campaign, "progress": automated.progress(campaign), "rows": rows, "page": page}


@require_GET
def campaign_detail(request, pk):
    return render(request, "telephony/automated_detail.html", _context(request, pk))


@require_GET
def campaign_progress(request, pk):
    return render(request, "telephony/automated_detail.html#live", _context(request, pk))


@require_POST
def campaign_cancel(request, pk):
    _bulk_only(request)
    campaign = get_object_or_404(CallCampaign, pk=pk)
    automated.cancel(campaign, by=request.user)
    flash.success(request, "Stopped: no more calls are placed; calls under way finish.")
    return redirect("telephony:automated_detail", pk)
