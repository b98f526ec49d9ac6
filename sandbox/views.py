"""“Play the customer”: pick a business number and a phone, write, attach, tap — the message reaches
Sampark through the real webhook path, signed like Tata's."""

import requests
from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_POST

from accounts.selectors import can_access_admin
from contacts.models import ContactPhone
from core import phones
from inbox.models import Channel
from sandbox import omni
from sandbox.api import webhook_url_for
from sandbox.models import SandboxMessage

THREAD_LENGTH = 60
MAX_UPLOAD = 16 * 1024 * 1024


def sandbox_only(view):
    """The customer's side of every sandbox channel: every contact and every team's messages. Admins only."""

    def wrapper(request, *args, **kwargs):
        if not settings.SANDBOX_ENABLED:
            raise Http404("The sandbox is off.")
        if not can_access_admin(request.user):
            raise PermissionDenied("Only admins can play the customer.")
        return view(request, *args, **kwargs)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


class CustomerForm(forms.Form):
    channel = forms.ModelChoiceField(queryset=Channel.objects.none(), empty_label=None, label="Business number")
    phone = forms.CharField(max_length=32, label="Customer phone")
    name = forms.CharField(max_length=100, required=False, label="Customer name")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = omni.sandbox_channels()

    def clean_phone(self):
        number = phones.try_e164(self.cleaned_data["phone"])
        if number is None:
            raise forms.ValidationError(f"“{self.cleaned_data['phone']}” is not a valid phone number.")
        return number


def _thread(channel, customer) -> list[dict]:
    rows = list(SandboxMessage.objects.filter(channel=channel, customer=customer).order_by("-created_at", "-pk")[:THREAD_LENGTH])
    items = []
    for message in reversed(rows):
        if message.direction == SandboxMessage.Direction.TO_CUSTOMER:
            rcs = omni.rcs_view_or_none(message) if message.type == "rcs" else None
            items.append({"message": message, "mine": False, "text": omni.business_text(message), "choices": omni.choices_of(message), "rcs": rcs})
        else:
            items.append({"message": message, "mine": True, "text": _customer_text(message)})
    return items


def _customer_text(message: SandboxMessage) -> str:
    payload = message.payload or {}
    if message.type == "rcs":
        return payload.get("text") or ((payload.get("suggestionResponse") or {}).get("plainText")) or ("📍 Location" if payload.get("location") else "")
    kind = payload.get("type")
    obj = payload.get(kind) if isinstance(payload.get(kind), dict) else {}
    if kind == "text":
        return obj.get("body", "")
    if kind == "interactive":
        inner = obj.get(obj.get("type")) or {}
        return f"▸ {inner.get('title', '')}"
    if kind == "button":
        return f"▸ {obj.get('text', '')}"
    if kind == "location":
        return f"📍 {obj.get('name', '')}"
    if kind == "reaction":
        return f"Reacted {obj.get('emoji') or '(removed)'}"
    return f"[{kind}] {obj.get('caption') or obj.get('filename') or ''}".strip()


def _context(form, channel=None, customer=None, error="", notice=""):
    channels = list(omni.sandbox_channels())
    return {
        "form": form,
        "channel": channel,
        "customer": customer,
        "thread": _thread(channel, customer) if channel and customer else [],
        "channels": channels,
        "known_phones": ContactPhone.objects.select_related("contact").order_by("contact__name")[:50],
        "error": error,
        "notice": notice,
    }


@sandbox_only
@require_GET
def customer_page(request):
    initial = {}
    channels = omni.sandbox_channels()
    if channels.exists():
        initial["channel"] = channels.first().pk
    form = CustomerForm(request.GET or None, initial=initial)
    channel = customer = None
    if form.is_bound and form.is_valid():
        channel, customer = form.cleaned_data["channel"], form.cleaned_data["phone"]
    template = "sandbox/customer.html#thread" if request.htmx and request.GET.get("part") == "thread" else "sandbox/customer.html"
    return render(request, template, _context(form, channel, customer))


@sandbox_only
@require_POST
def customer_send(request):
    """The customer sends something: build Tata's webhook for it and post it to the channel's webhook."""
    form = CustomerForm(request.POST)
    if not form.is_valid():
        return render(request, "sandbox/customer.html#thread", _context(form, error="Choose a business number and a valid phone."), status=400)
    channel, customer, name = form.cleaned_data["channel"], form.cleaned_data["phone"], form.cleaned_data["name"]
    kind = request.POST.get("kind", "text")
    text = request.POST.get("text", "").strip()
    reply_to = None
    if request.POST.get("reply_to"):
        reply_to = get_object_or_404(SandboxMessage, pk=request.POST["reply_to"], channel=channel, customer=customer)
    upload = request.FILES.get("file")
    if kind == "text" and upload is not None:
        kind = "media"
    error = ""
    if kind == "text" and not text and not request.POST.get("choice_title"):  # a tapped RCS suggestion has no text
        error = "Type a message or attach a file."
    elif kind == "media" and upload is None:
        error = "Choose a file to send."
    elif upload is not None and upload.size > MAX_UPLOAD:
        error = "Files up to 16 MB."
    elif kind not in omni.CUSTOMER_KINDS:
        error = "Unknown kind of message."
    if error:
        return render(request, "sandbox/customer.html#thread", _context(form, channel, customer, error=error), status=400)

    if channel.kind == Channel.Kind.RCS:
        _, body = omni.customer_rcs_message(
            channel, customer, text=text, location=kind == "location",
            choice_id=request.POST.get("choice_id", ""), choice_title=request.POST.get("choice_title", ""),
            choice_type=request.POST.get("choice_type", "REPLY"), reply_to=reply_to if request.POST.get("choice_title") else None,
        )
    else:
        media = omni.store_media(channel, upload, by_business=False) if kind == "media" else None
        _, body = omni.customer_message(
            channel, customer, name=name, kind=kind, text=text, media=media, reply_to=reply_to,
            choice_id=request.POST.get("choice_id", ""), choice_title=request.POST.get("choice_title", ""),
            emoji=request.POST.get("emoji", ""),
        )
    try:
        response = omni.post_signed(webhook_url_for(request, channel), channel.partner_token, body)
        if response.status_code >= 300:
            error = f"Sampark's webhook answered {response.status_code}: {response.text[:200]}"
    except requests.RequestException as exc:
        error = f"Could not reach Sampark's webhook: {exc.__class__.__name__}"
    return render(request, "sandbox/customer.html#thread", _context(form, channel, customer, error=error), status=502 if error else 200)


@sandbox_only
@require_POST
def customer_typing(request):
    """The customer types on an RCS chat: Tata's USER_EVENT TYPING goes to Sampark (static/js/sandbox-typing.js
    posts at most every few seconds while they type). WhatsApp sends no typing events."""
    form = CustomerForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"error": "Choose a business number and a valid phone."}, status=400)
    channel, customer = form.cleaned_data["channel"], form.cleaned_data["phone"]
    if channel.kind != Channel.Kind.RCS:
        return JsonResponse({"error": "Only RCS chats send typing events."}, status=400)
    try:
        response = omni.post_signed(webhook_url_for(request, channel), channel.partner_token, omni.customer_rcs_typing(channel, customer))
    except requests.RequestException as exc:
        return JsonResponse({"error": f"Could not reach Sampark's webhook: {exc.__class__.__name__}"}, status=502)
    return JsonResponse({"webhook": response.status_code}, status=200 if response.status_code < 300 else 502)
