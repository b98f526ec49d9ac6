"""Thin views for replying: the composer, retry, templates, canned replies, opt-in/out, new conversations."""

from django.contrib import messages as flash
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import can_manage_contacts_in_bulk
from contacts import selectors as contact_selectors
from contacts.models import Label
from core.errors import ApplicationError
from core.untrusted import row_id
from inbox import canned, opt_status
from inbox.message_templates import fill, stats, sync, validation
from inbox.forms import ComposerForm
from inbox.models import Channel, Conversation, Message, OptStatus, Template
from inbox.outbound import rules
from inbox.outbound import send as sending  # the view `send` below takes the module's name
from inbox.selectors import visible_conversations


def _conversation(request, pk) -> Conversation:
    return get_object_or_404(visible_conversations(request.user).select_related("channel", "contact"), pk=pk)


def _composer(request, conversation, *, error="", kind="text", status=200, values=None, template=None):
    if error and request.htmx:
        # The agent's composer stays as it is (text, chosen file, template blanks): only the reason is
        # swapped into its error slot.
        response = render(request, "inbox/_composer_error.html", {"composer_error": error}, status=status)
        response["HX-Retarget"] = "#composer-error"
        response["HX-Reswap"] = "outerHTML"
        return response
    context = {"conversation": conversation, "composer_error": error, "composer_kind": kind, "composer_values": values or {}}
    if template is not None:
        context.update(_template_context(template, values or {}, conversation.contact))
    return render(request, "inbox/_composer.html", context, status=status)


# ---------------------------------------------------------------- composer


@require_GET
def composer(request, pk):
    return _composer(request, _conversation(request, pk))


@require_POST
def send(request, pk):
    """One endpoint for every kind the composer sends; answers with a fresh composer, or (422) the reason
    it was not sent."""
    conversation = _conversation(request, pk)
    data, files, user = request.POST, request.FILES, request.user
    form = ComposerForm(data, conversation=conversation)
    if not form.is_valid():
        return _composer(request, conversation, error=form.error_text(), kind=data.get("kind") or "text", status=422, values=dict(data.items()))
    kind, reply_to, template = form.cleaned_data["kind"], form.cleaned_data["reply_to"], form.cleaned_data["template"]
    try:
        if kind == "text" and files.get("file"):
            sending.send_media(conversation, by=user, upload=files["file"], caption=canned.expand(user, data.get("body", "")), reply_to=reply_to)
        elif kind == "text":
            sending.send_text(conversation, by=user, body=canned.expand(user, data.get("body", "")), preview_url=bool(data.get("preview_url")), reply_to=reply_to)
        elif kind == "location":
            sending.send_location(conversation, by=user, latitude=data.get("latitude"), longitude=data.get("longitude"), name=data.get("name", ""), address=data.get("address", ""))
        elif kind == "buttons":
            sending.send_buttons(conversation, by=user, body=data.get("body", ""), buttons=data.getlist("button"), footer=data.get("footer", ""))
        elif kind == "list":
            rows = [{"title": t, "description": d} for t, d in zip(data.getlist("row_title"), data.getlist("row_description"))]
            sending.send_list(conversation, by=user, body=data.get("body", ""), button=data.get("list_button", ""), rows=rows)
        else:  # "template": the form knows no other kind
            try:
                fill.send_template(conversation, template, _values(data), by=user, header_upload=files.get("header_file"))
            except ApplicationError as exc:
                return _composer(request, conversation, error=exc.message, kind="template", status=422, values=_values(data), template=template)
    except ApplicationError as exc:
        return _composer(request, conversation, error=exc.message, kind=kind, status=422, values=dict(data.items()))
    return _composer(request, conversation)


def _values(data) -> dict:
    return {k: v for k, v in data.items() if k.startswith(("header_", "body_", "button_")) and k != "header_file"}


@require_POST
def retry(request, pk):
    message = get_object_or_404(Message.objects.filter(conversation__in=visible_conversations(request.user)), pk=pk)
    try:
        message = sending.retry(message, by=request.user)
        error = ""
    except ApplicationError as exc:
        error = exc.message
    message = Message.objects.select_related("conversation", "sender").get(pk=message.pk)
    return render(request, "inbox/index.html#message", {"message": message, "conversation": message.conversation, "action_error": error})


@require_GET
def canned_search(request):
    replies = canned.search(request.user, request.GET.get("q", ""))
    return JsonResponse({"results": [{"shortcut": r.shortcut, "body": r.body, "shared": r.owner_id is None} for r in replies]})


# ---------------------------------------------------------------- template fields (composer, new conversation, campaigns)


def _template_context(template: Template, values: dict, contact=None) -> dict:
    return {
        "template": template,
        "template_fields": fill.template_fields(template),
        "template_values": values,
        "template_preview": fill.preview(template, values, contact),
    }


def _id(value) -> int | None:
    """A database id from a query string, or None for "", "abc" and numbers no id can be."""
    return int(value) if value and value.isascii() and value.isdigit() and len(value) < 19 else None


@require_GET
def template_fields(request):
    """The blanks of a template and its preview (hx-get when a template is picked or a blank typed)."""
    pk, conversation_pk = _id(request.GET.get("template")), _id(request.GET.get("conversation"))
    if pk is None:  # "Choose…" again: no blanks to fill
        return HttpResponse("")
    template = get_object_or_404(Template, pk=pk)
    contact = _conversation(request, conversation_pk).contact if conversation_pk else None
    return render(request, "inbox/_template_fields.html", _template_context(template, _values(request.GET), contact))


# ---------------------------------------------------------------- templates


def _admin_only(request):
    if not request.user.is_admin_role:
        raise PermissionDenied("Only admins manage templates.")


@require_GET
def template_list(request):
    channels = Channel.objects.filter(kind=Channel.Kind.WHATSAPP)
    return render(request, "inbox/outbound/templates.html", {
        "channels": [(c, Template.objects.filter(channel=c), stats.insights_enabled(c), sync.last_synced(c)) for c in channels],
        "can_manage": request.user.is_admin_role,
    })


@require_POST
def template_sync(request, channel_pk):
    _admin_only(request)
    channel = get_object_or_404(Channel, pk=channel_pk)
    try:
        counts = sync.sync_templates(channel)
        flash.success(request, f"Synced {channel.name}: {counts['created']} new, {counts['updated']} updated, {counts['deleted']} no longer on Tata.")
    except ApplicationError as exc:
        flash.error(request, exc.message)
    return redirect("outbound:templates")


def template_create(request):
    _admin_only(request)
    channels = Channel.objects.filter(kind=Channel.Kind.WHATSAPP, is_active=True)
    context = {"channels": channels, "languages": validation.LANGUAGES, "categories": validation.CATEGORIES,
               "data": request.POST or {"language": "en", "category": "UTILITY"}, "errors": []}
    if request.method == "POST":
        data = request.POST
        channel = get_object_or_404(Channel, pk=data.get("channel") or 0)
        buttons = [
            {"type": t, "text": x, "value": v}
            for t, x, v in zip(data.getlist("button_type"), data.getlist("button_text"), data.getlist("button_value")) if t
        ]
        try:
            ttl = int(data["ttl"]) if data.get("ttl") else None
        except ValueError:
            ttl = -1
        draft = validation.TemplateDraft(
            name=data.get("name", ""), language=data.get("language", ""), category=data.get("category", ""),
            body=data.get("body", ""), body_examples=[e.strip() for e in data.get("body_examples", "").split("|") if e.strip()],
            header_format=data.get("header_format", ""), header_text=data.get("header_text", ""), header_example=data.get("header_example", ""),
            header_file=request.FILES.get("header_file"), footer=data.get("footer", ""), buttons=buttons, ttl_seconds=ttl,
            components_json=data.get("components_json", ""),
        )
        try:
            template = sync.create_template(channel, draft, by=request.user)
        except ApplicationError as exc:
            context["errors"] = exc.extra.get("errors") or [exc.message]
            return render(request, "inbox/outbound/template_form.html", context, status=422)
        flash.success(request, f"{template.name} was sent to WhatsApp for approval: it is pending until WhatsApp approves it (sync to see).")
        return redirect("outbound:templates")
    return render(request, "inbox/outbound/template_form.html", context)


def template_insights(request, pk):
    template = get_object_or_404(Template.objects.select_related("channel"), pk=pk)
    error, days = "", []
    if request.method == "POST":
        _admin_only(request)
        try:
            stats.enable_insights(template.channel, by=request.user)
        except ApplicationError as exc:
            error = exc.message
    enabled = stats.insights_enabled(template.channel)
    span = 30 if request.GET.get("days") not in ("7", "90") else int(request.GET["days"])
    if enabled:
        try:
            days = stats.template_insights(template, days=span)
        except ApplicationError as exc:
            error = exc.message
    peak = max([d.sent for d in days] + [1])
    bars = []
    for i, d in enumerate(days):
        heights = {k: round(150 * getattr(d, k) / peak, 1) for k in ("sent", "delivered", "read")}
        bars.append({"day": d, "x": i * 24, **heights, **{f"{k}_y": round(160 - h, 1) for k, h in heights.items()}})
    totals = {k: sum(getattr(d, k) for d in days) for k in ("sent", "delivered", "read")}
    return render(request, "inbox/outbound/insights.html", {
        "template": template, "enabled": enabled, "error": error, "bars": bars, "width": max(24 * len(days), 240),
        "totals": totals, "span": span, "can_manage": request.user.is_admin_role,
    })


# ---------------------------------------------------------------- canned replies


def canned_list(request):
    editing = None
    if request.GET.get("edit"):
        editing = get_object_or_404(canned.available(request.user), pk=row_id(request.GET["edit"]))
    error = ""
    if request.method == "POST":
        # Only replies the user may see: someone else's private reply is a 404, never shown back in the form.
        reply = get_object_or_404(canned.available(request.user), pk=row_id(request.POST["pk"])) if request.POST.get("pk") else None
        try:
            if request.POST.get("delete") and reply:
                canned.delete(request.user, reply)
                flash.success(request, f"/{reply.shortcut} deleted.")
            else:
                saved = canned.save(request.user, shortcut=request.POST.get("shortcut", ""), body=request.POST.get("body", ""),
                                    shared=bool(request.POST.get("shared")), reply=reply)
                flash.success(request, f"/{saved.shortcut} saved.")
            return redirect("outbound:canned")
        except ApplicationError as exc:
            error, editing = exc.message, reply
    replies = canned.available(request.user).select_related("owner")
    return render(request, "inbox/outbound/canned.html", {
        "replies": [(r, canned.can_manage(request.user, r)) for r in replies], "editing": editing, "error": error,
        "data": request.POST if error else {}, "can_share": request.user.is_admin_role,
    })


# ---------------------------------------------------------------- contacts: new conversation, opt-in/out


def _contact(request, pk):
    return get_object_or_404(contact_selectors.visible_contacts(request.user), pk=pk)


def start_conversation(request, contact_pk):
    """Open (or continue) a conversation with a contact by sending an approved template."""
    contact = _contact(request, contact_pk)
    channels = list(Channel.objects.filter(kind=Channel.Kind.WHATSAPP, is_active=True))
    channel = next((c for c in channels if str(c.pk) == (request.POST.get("channel") or request.GET.get("channel"))), channels[0] if channels else None)
    templates = list(fill.sendable_templates(channel)) if channel else []
    template = next((t for t in templates if str(t.pk) == (request.POST.get("template") or request.GET.get("template"))), None)
    values = _values(request.POST or request.GET)
    context = {"contact": contact, "channels": channels, "channel": channel, "templates": templates, "error": ""}
    status = rules.opt_out_of(contact.pk, channel.pk) if channel else None
    context["opted_out"] = rules.opt_out_explanation(status) if status else ""
    if template:
        context.update(_template_context(template, values, contact))
    if request.method == "POST" and channel and template:
        try:
            conversation = sending.conversation_for(contact, channel)
            fill.send_template(conversation, template, values, by=request.user, header_upload=request.FILES.get("header_file"))
        except ApplicationError as exc:
            context["error"] = exc.message
            return render(request, "inbox/outbound/start.html", context, status=422)
        flash.success(request, f"Template {template.name} queued to {contact}.")
        try:
            return redirect(reverse("inbox:conversation", args=[conversation.pk]))
        except NoReverseMatch:
            return redirect(contact)
    return render(request, "inbox/outbound/start.html", context)


@require_POST
def contact_opt(request, contact_pk):
    contact = _contact(request, contact_pk)
    channel = get_object_or_404(Channel, pk=row_id(request.POST.get("channel")))
    try:
        opt_in, options = _opt_choice(request.POST)
        opt_status.set_contact_opt(contact, channel, opt_in=opt_in, by=request.user, **options)
        flash.success(request, f"{contact} is opted {'in' if opt_in else 'out'} on {channel.name}; Tata is being told.")
    except ApplicationError as exc:
        flash.error(request, exc.message)
    return redirect(contact)


def _opt_choice(data) -> tuple[bool, dict]:
    """In or out, and for an opt-out the days until automatic opt-in and the reason, from a form."""
    opt_in = data.get("action") == "optin"
    days = data.get("auto_optin_days")
    try:
        auto_optin_days = int(days) if days and not opt_in else None
    except ValueError:
        raise ApplicationError("Automatic opt-in is a number of days.") from None
    return opt_in, {"auto_optin_days": auto_optin_days, "reason": data.get("reason", "")}


def bulk_opt(request):
    """Opt every contact of a contacts-list filter in or out on a number."""
    if not can_manage_contacts_in_bulk(request.user):
        raise PermissionDenied("Only supervisors and admins change opt-ins in bulk.")
    source = request.POST if request.method == "POST" else request.GET
    filters = {k: source.get(k, "") for k in ("q", "label", "owner")}
    contacts = contact_selectors.filter_contacts(  # the contacts list's filter, as the list shows it to this user
        contact_selectors.search_contacts(contact_selectors.visible_contacts(request.user), filters["q"]),
        user=request.user, label=filters["label"] or None, owner=filters["owner"] or None,
    )
    channels = Channel.objects.filter(kind=Channel.Kind.WHATSAPP)
    context = {"filters": filters, "count": contacts.count(), "channels": channels, "error": "",
               "labels": Label.objects.all(),
               "unsynced": OptStatus.objects.filter(synced_at__isnull=True).count()}
    if request.method == "POST":
        try:
            if request.POST.get("action") == "resync":
                for channel in channels:
                    opt_status.resync(channel, by=request.user)
                flash.success(request, "Unconfirmed opt-in states are being sent to Tata again.")
                return redirect("outbound:bulk_opt")
            channel = get_object_or_404(Channel, pk=row_id(request.POST.get("channel")))
            opt_in, options = _opt_choice(request.POST)
            if request.POST.get("confirmed_count") != str(context["count"]):
                # A confirmation step naming the count; asked again if the filter now selects others.
                context.update(confirm={"opt_in": opt_in, "channel": channel, "options": options,
                                        "changed": bool(request.POST.get("confirmed_count"))})
                return render(request, "inbox/outbound/bulk_opt.html", context)
            count = opt_status.set_opt(contacts, channel, opt_in=opt_in, by=request.user, **options)
            flash.success(request, f"{count} contacts opted {'in' if opt_in else 'out'} on {channel.name}; Tata is being told.")
            return redirect("outbound:bulk_opt")
        except ApplicationError as exc:
            context["error"] = exc.message
    return render(request, "inbox/outbound/bulk_opt.html", context)
