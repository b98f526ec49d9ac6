from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import assignable_users, can_manage_contacts_in_bulk
from campaigns import services
from campaigns.models import Campaign
from contacts.models import Label
from core.errors import ApplicationError
from inbox.message_templates import fill
from inbox.rich import service as rich
from inbox.models import Channel


def _bulk_only(request):
    if not can_manage_contacts_in_bulk(request.user):
        raise PermissionDenied("Only supervisors and admins send campaigns.")


@require_GET
def campaign_list(request):
    _bulk_only(request)
    campaigns = Campaign.objects.select_related("channel", "template", "snippet", "created_by")[:100]
    return render(request, "campaigns/list.html", {"campaigns": [(c, services.progress(c)) for c in campaigns]})


def campaign_create(request):
    """The form, then a confirmation step that names the count (the POST that sends carries the count
    the person confirmed; if the audience changed since, they are asked again)."""
    _bulk_only(request)
    source = request.POST if request.method == "POST" else request.GET
    channels = list(Channel.objects.filter(kind__in=[Channel.Kind.WHATSAPP, Channel.Kind.RCS], is_active=True).order_by("kind", "name"))
    channel = next((c for c in channels if str(c.pk) == source.get("channel")), channels[0] if channels else None)
    if channel is not None and channel.kind == Channel.Kind.RCS:
        return _create_rich(request, source, channels, channel)
    templates = list(fill.sendable_templates(channel)) if channel else []
    template = next((t for t in templates if str(t.pk) == source.get("template")), None)
    filters = {k: source.get(k, "") for k in (*services.AUDIENCE_FILTERS, "everyone")}
    values = {k: v for k, v in source.items() if k.startswith(("header_", "body_", "button_"))}
    labels, owners = list(Label.objects.all()), list(assignable_users(request.user))
    context = {
        "channels": channels, "channel": channel, "templates": templates, "template": template, "filters": filters,
        "labels": labels, "owners": owners, "name": source.get("name", ""), "values": values,
        "audience_chosen": services.audience_chosen(filters), "count": services.recipient_count(request.user, filters), "error": "",
    }
    if template:
        context.update(template_fields=fill.template_fields(template), template_values=values,
                       template_preview=fill.preview(template, values))
    if request.method == "POST" and template:
        try:
            count = len(services.check(by=request.user, channel=channel, template=template, values=values, filters=filters))
            if source.get("confirmed_count") != str(count):
                context.update(count=count, audience_changed=bool(source.get("confirmed_count")), audience=services.describe_audience(
                    filters, labels={str(label.pk): label.name for label in labels}, owners={str(user.pk): str(user) for user in owners}))
                return render(request, "campaigns/confirm.html", context)
            campaign = services.start(by=request.user, name=source.get("name", ""), channel=channel, template=template, values=values, filters=filters)
        except ApplicationError as exc:
            context["error"] = exc.message
            return render(request, "campaigns/form.html", context, status=422)
        return redirect("campaigns:detail", campaign.pk)
    return render(request, "campaigns/form.html", context)


def _context(request, pk):
    _bulk_only(request)
    campaign = get_object_or_404(Campaign.objects.select_related("channel", "template", "snippet", "created_by"), pk=pk)
    recipients = campaign.recipients.select_related("contact", "message").order_by("pk")
    page = Paginator(recipients, 100).get_page(request.GET.get("page"))
    rows = [(r, services.result_of(r.status, r.message.status if r.message else None)) for r in page.object_list]
    progress = services.progress(campaign)
    return {"campaign": campaign, "progress": progress, "obstacles": services.obstacles(campaign, progress), "rows": rows, "page": page}


@require_GET
def campaign_detail(request, pk):
    return render(request, "campaigns/detail.html", _context(request, pk))


@require_GET
def campaign_progress(request, pk):
    return render(request, "campaigns/detail.html#live", _context(request, pk))


@require_POST
def campaign_cancel(request, pk):
    _bulk_only(request)
    campaign = get_object_or_404(Campaign, pk=pk)
    try:
        services.cancel(campaign, by=request.user)
        flash.success(request, "Campaign stopped; messages already queued still go out.")
    except ApplicationError as exc:
        flash.error(request, exc.message)
    return redirect("campaigns:detail", pk)


def _create_rich(request, source, channels, channel):
    """An RCS campaign: a saved rich message (shared, or the sender's own) instead of a template."""
    snippets = list(rich.snippets_for(request.user))
    snippet = next((x for x in snippets if str(x.pk) == source.get("snippet")), None)
    filters = {k: source.get(k, "") for k in (*services.AUDIENCE_FILTERS, "everyone")}
    labels, owners = list(Label.objects.all()), list(assignable_users(request.user))
    context = {
        "channels": channels, "channel": channel, "snippets": snippets, "snippet": snippet, "filters": filters,
        "labels": labels, "owners": owners, "name": source.get("name", ""), "values": {}, "error": "",
        "audience_chosen": services.audience_chosen(filters), "count": services.recipient_count(request.user, filters),
    }
    if request.method == "POST" and snippet:
        try:
            count = len(services.check_rich(by=request.user, channel=channel, snippet=snippet, filters=filters))
            if source.get("confirmed_count") != str(count):
                context.update(count=count, audience_changed=bool(source.get("confirmed_count")), audience=services.describe_audience(
                    filters, labels={str(label.pk): label.name for label in labels}, owners={str(user.pk): str(user) for user in owners}))
                return render(request, "campaigns/confirm.html", context)
            campaign = services.start_rich(by=request.user, name=source.get("name", ""), channel=channel, snippet=snippet, filters=filters)
        except ApplicationError as exc:
            context["error"] = exc.message
            return render(request, "campaigns/form.html", context, status=422)
        return redirect("campaigns:detail", campaign.pk)
    return render(request, "campaigns/form.html", context)
