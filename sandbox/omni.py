"""The pretend Tata omni: accepts sends, answers with ids, and calls the business back.

Everything it posts to Sampark goes through the real webhook URL, signed with the channel's partner
token (`x-hub-signature-256: sha256=<hex hmac>`), in the shapes of tests/fixtures. Status callbacks
(sent → delivered → read) are posted by the process's courier threads (sandbox/callbacks.py) after
small delays, so a send request answers at once, as the real API does.

Long because: it mirrors inbox/providers/tata_whatsapp.py and tata_rcs.py from the other side (the
sends both accept, their callbacks, media, templates, the customer's messages), and the WhatsApp and
RCS halves share the callback plumbing and the customer's view of a message.
"""

import base64
import datetime
import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core import signing
from django.utils import timezone

from core import phones
from inbox.models import Channel
from sandbox.callbacks import Callback, deliver_later, post_signed  # noqa: F401 - the sandbox's views post through these
from sandbox.models import SandboxMedia, SandboxMessage, SandboxTemplate

SANDBOX_PATH = "/sandbox/api/tata"
SESSION_WINDOW = datetime.timedelta(hours=24)
FILE_LINK_MAX_AGE = 900  # seconds a media download link stays valid (Tata's S3 links: 15 minutes)


class SandboxError(Exception):
    """A request the real API would refuse; `body` is Tata's JSON for it."""

    def __init__(self, status: int, body: dict):
        super().__init__(body.get("message") or body.get("description") or body.get("title") or str(status))
        self.status = status
        self.body = body


def trace_id() -> str:
    return str(uuid.uuid4())


def unauthorized(missing: bool) -> SandboxError:
    if missing:
        return SandboxError(401, {"error": "AUTH_TOKEN_NOT_FOUND", "meta": {}, "message": "Auth-Token not found in header", "traceId": trace_id()})
    return SandboxError(
        401, {"status": "ERROR", "status_code": 401, "error": "UNAUTHORIZED", "error_code": "AUTH_FAILED", "description": "JWT - Auth-Token not valid"}
    )


def sandbox_channels():
    """Channels whose API base URL points at this sandbox."""
    return Channel.objects.filter(is_active=True, api_base_url__contains=SANDBOX_PATH).select_related("team").order_by("-kind", "name")


LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0"}


def point_local_channels_at(server_base: str) -> int:
    """Channels (and, with the telephony app, Smartflo connections) served by a sandbox on this machine
    follow the port the app now runs on: they were seeded with the base of an earlier run, e.g. :8000
    before `make run PORT=8100`. Returns how many moved."""
    server_base = server_base.rstrip("/")
    moved = _point_at(Channel.objects.filter(api_base_url__endswith=SANDBOX_PATH), "api_base_url", server_base + SANDBOX_PATH)
    if apps.is_installed("telephony"):
        from sandbox.smartflo import SMARTFLO_PATH, sandbox_connections

        moved += _point_at(sandbox_connections(), "base_url", server_base + SMARTFLO_PATH)
    return moved


def _point_at(rows, field: str, base: str) -> int:
    local = [row.pk for row in rows.exclude(**{field: base}) if urlsplit(getattr(row, field)).hostname in LOOPBACK_HOSTS]
    return rows.model.objects.filter(pk__in=local).update(**{field: base})


def channel_for_authorization(header: str | None) -> Channel:
    """The channel whose access token the caller presented (`Bearer <token>` or the bare token)."""
    token = (header or "").strip()
    if not token:
        raise unauthorized(missing=True)
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    for channel in Channel.objects.filter(is_active=True):
        if channel.access_token and hmac.compare_digest(channel.access_token.encode(), token.encode()):
            return channel
    raise unauthorized(missing=False)


def _dump(payload: dict) -> bytes:
    return json.dumps(payload, indent=2, ensure_ascii=False).encode()


def _delays() -> tuple[float, float, float]:
    return tuple(settings.SANDBOX_CALLBACK_DELAYS)


def new_wamid() -> str:
    return "wamid.SBX" + base64.b64encode(secrets.token_bytes(18)).decode().rstrip("=")


# ---------------------------------------------------------------- WhatsApp: the business sends


def _status_body(channel: Channel, message: SandboxMessage, status: str, callback_data: str, *, errors=None) -> bytes:
    item = {
        "id": message.provider_message_id,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": phones.provider_digits(message.customer),
    }
    if status in ("sent", "delivered"):
        item["conversation"] = {
            "id": hashlib.md5(f"{channel.pk}:{message.customer}".encode()).hexdigest(),  # noqa: S324 (an id, not security)
            "expiration_timestamp": str(int(time.time()) + 86400),
            "origin": {"type": "marketing" if message.type == "template" else "service"},
        }
        item["pricing"] = {
            "billable": True,
            "pricing_model": "PMP",
            "category": "marketing" if message.type == "template" else "service",
            "type": "regular",
        }
    if errors:
        item["errors"] = errors
    if callback_data:
        item["custom_callback_data"] = callback_data
    return _dump({"statuses": [item], "businessPhoneNumber": channel.phone_number, "id": str(uuid.uuid4())})


def _session_open(channel: Channel, customer: str) -> bool:
    last = (
        SandboxMessage.objects.filter(channel=channel, customer=customer, direction=SandboxMessage.Direction.FROM_CUSTOMER)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return last is not None and timezone.now() - last < SESSION_WINDOW


SEND_TYPES = {"text", "image", "audio", "video", "document", "sticker", "location", "contacts", "interactive", "template", "reaction"}


def accept_whatsapp_send(channel: Channel, payload, *, webhook_url: str) -> tuple[str, list[Callback]]:
    """POST /whatsapp-cloud/messages: check it as Tata would, remember it, plan its status callbacks.

    Free-form messages to a customer who has not written in 24 hours fail with 131047, as on WhatsApp;
    templates go through.
    """
    if not isinstance(payload, dict):
        raise SandboxError(400, {"error": "INVALID_REQUEST", "meta": {}, "message": "Body must be a JSON object", "traceId": trace_id()})
    kind = payload.get("type") or "text"
    if kind not in SEND_TYPES or not isinstance(payload.get(kind), dict):
        raise SandboxError(400, {"error": "INVALID_REQUEST", "meta": {}, "message": f"Unsupported or missing message type “{kind}”", "traceId": trace_id()})
    customer = phones.try_e164(str(payload.get("to") or ""))
    if customer is None:
        raise SandboxError(400, {"error": "INVALID_REQUEST", "meta": {}, "message": "“to” must be a phone number with country code", "traceId": trace_id()})
    if kind == "text" and not str(payload["text"].get("body") or "").strip():
        raise SandboxError(400, {"error": "INVALID_REQUEST", "meta": {}, "message": "text.body is required", "traceId": trace_id()})

    request_id = str(uuid.uuid4())
    message = SandboxMessage.objects.create(
        channel=channel, customer=customer, direction=SandboxMessage.Direction.TO_CUSTOMER,
        provider_message_id=new_wamid(), request_id=request_id, type=kind, payload=payload,
    )
    callback_data = str((payload.get("metaData") or {}).get("custom_callback_data") or "")
    sent, delivered, read = _delays()
    if kind != "template" and not _session_open(channel, customer):
        errors = [{
            "code": 131047, "title": "Re-engagement message", "message": "Re-engagement message",
            "error_data": {"details": "Message failed to send because more than 24 hours have passed since the customer last replied to this number."},
        }]
        message.failed = "131047 Re-engagement message"
        message.save(update_fields=["failed"])
        return request_id, [Callback(sent, _status_body(channel, message, "failed", callback_data, errors=errors))]
    plan = [Callback(sent, _status_body(channel, message, "sent", callback_data))]
    if kind != "reaction":
        plan += [
            Callback(delivered, _status_body(channel, message, "delivered", callback_data)),
            Callback(read, _status_body(channel, message, "read", callback_data)),
        ]
    return request_id, plan


# ---------------------------------------------------------------- RCS: the business sends


# Tata/Jio's event names → Google RBM's (settings.SANDBOX_RCS_EVENT_NAMES = "rbm").
RBM_EVENT_NAMES = {"MESSAGE_DELIVERED": "DELIVERED", "MESSAGE_READ": "READ", "TYPING": "IS_TYPING"}


def rcs_event_name(tata_name: str) -> str:
    return RBM_EVENT_NAMES.get(tata_name, tata_name) if settings.SANDBOX_RCS_EVENT_NAMES == "rbm" else tata_name


def _rcs_body(channel: Channel, message: SandboxMessage, entity_type: str, event_type: str) -> bytes:
    entity = {
        "eventType": rcs_event_name(event_type),
        "messageId": message.provider_message_id,
        "sendTime": timezone.now().isoformat().replace("+00:00", "Z"),
        "eventId": "Mx" + secrets.token_urlsafe(16),
    }
    if entity_type == "USER_EVENT":
        entity["senderPhoneNumber"] = message.customer
    return _dump({"userPhoneNumber": message.customer, "botId": f"sandbox-bot-{channel.pk}", "entityType": entity_type, "entity": entity})


def accept_rcs_send(channel: Channel, payload, *, webhook_url: str) -> tuple[str, list[Callback]]:
    """POST /rcs/messages {to, content, source} → {"id"}; then SEND_MESSAGE_SUCCESS, DELIVERED, READ.

    The content is read as the reference describes it (plain text, rich card or carousel, with
    suggested replies and actions) and refused, as Tata refuses, with 400 {title, code}. When
    settings.SANDBOX_RCS_BOT_CONVERSATION_LIMIT is set, a bot that has already written to that many
    customers in 24 hours answers a new one with the reference's 403 "Bot conversation limit is exceeded".
    """
    customer = phones.try_e164(str((payload or {}).get("to") or "")) if isinstance(payload, dict) else None
    if customer is None:
        raise SandboxError(400, {"title": "Invalid Phone number", "code": 400})
    rcs_view(payload.get("content"))  # raises the 400 for a content Tata would refuse
    limit = settings.SANDBOX_RCS_BOT_CONVERSATION_LIMIT
    if limit is not None:
        recent = SandboxMessage.objects.filter(
            channel=channel, direction=SandboxMessage.Direction.TO_CUSTOMER, type="rcs", created_at__gte=timezone.now() - SESSION_WINDOW
        )
        if not recent.filter(customer=customer).exists() and recent.values("customer").distinct().count() >= limit:
            raise SandboxError(403, {"message": "Bot conversation limit is exceeded", "error": "Forbidden", "statusCode": 403})
    message_id = str(uuid.uuid4())
    message = SandboxMessage.objects.create(
        channel=channel, customer=customer, direction=SandboxMessage.Direction.TO_CUSTOMER,
        provider_message_id=message_id, request_id=message_id, type="rcs", payload=payload,
    )
    sent, delivered, read = _delays()
    return message_id, [
        Callback(sent, _rcs_body(channel, message, "STATUS_EVENT", "SEND_MESSAGE_SUCCESS")),
        Callback(delivered, _rcs_body(channel, message, "USER_EVENT", "MESSAGE_DELIVERED")),
        Callback(read, _rcs_body(channel, message, "USER_EVENT", "MESSAGE_READ")),
    ]


# The reference's limits: a rich card up to 4 buttons; a carousel 2 to 10 cards of up to 4 buttons each.
RCS_CARD_BUTTONS = 4
RCS_CAROUSEL_CARDS = (2, 10)
RCS_ACTIONS = {"openUrl": "🔗", "dialerAction": "📞", "showLocation": "📍", "shareLocation": "📌", "createCalendarEvent": "📅"}


def _refuse(title: str) -> SandboxError:
    return SandboxError(400, {"title": title, "code": 400})


def rcs_view(content) -> dict:
    """An RCS `content` as the customer's phone shows it: {text, chips, cards, carousel}; chips are
    {kind: reply|action, action, icon, title, postback, detail}. Raises the 400 Tata would answer."""
    if not isinstance(content, dict) or not content:
        raise _refuse("content is required")
    if "plainText" in content and "richCardDetails" in content:
        raise _refuse("content must be plainText or richCardDetails, not both")
    if "plainText" in content:
        text = content["plainText"]
        if not isinstance(text, str) or not text.strip():
            raise _refuse("plainText must be a non-empty string")
        return {"text": text, "chips": _rcs_chips(content.get("suggestions"), None), "cards": [], "carousel": False}
    details = content.get("richCardDetails")
    if not isinstance(details, dict) or len(details) != 1 or not ({"standalone", "carousel"} & set(details)):
        raise _refuse("richCardDetails must hold standalone or carousel")
    if "standalone" in details:
        standalone = details["standalone"]
        if not isinstance(standalone, dict) or standalone.get("cardOrientation", "VERTICAL") not in ("VERTICAL", "HORIZONTAL"):
            raise _refuse("standalone.cardOrientation must be VERTICAL or HORIZONTAL")
        return {"text": "", "chips": [], "cards": [_rcs_card(standalone.get("content"), "The rich card")], "carousel": False}
    carousel = details["carousel"]
    contents = carousel.get("contents") if isinstance(carousel, dict) else None
    if not isinstance(contents, list) or not RCS_CAROUSEL_CARDS[0] <= len(contents) <= RCS_CAROUSEL_CARDS[1]:
        raise _refuse("A carousel must include minimum 2 cards and maximum 10 cards")
    return {"text": "", "chips": [], "cards": [_rcs_card(c, f"Card {i}") for i, c in enumerate(contents, 1)], "carousel": True}


OUR_CARD_MEDIA = re.compile(r"^/rcs-cards/(?P<token>[A-Za-z0-9_-]{8,64})$")


def _rcs_card(card, name: str) -> dict:
    if not isinstance(card, dict):
        raise _refuse(f"{name} must be an object")
    media = card.get("cardMedia")
    media_url = ""
    if media is not None:
        info = media.get("contentInfo") if isinstance(media, dict) else None
        media_url = info.get("fileUrl") if isinstance(info, dict) else None
        if not isinstance(media_url, str) or not media_url.startswith(("https://", "http://")):
            raise _refuse(f"{name}: cardMedia.contentInfo.fileUrl must be an http(s) URL")
    title, description = card.get("cardTitle") or "", card.get("cardDescription") or ""
    if not isinstance(title, str) or not isinstance(description, str):
        raise _refuse(f"{name}: cardTitle and cardDescription are strings")
    if not (title or description or media_url):
        raise _refuse(f"{name} needs a title, a description or media")
    suggestions = card.get("suggestions")
    if isinstance(suggestions, list) and len(suggestions) > RCS_CARD_BUTTONS:
        raise _refuse(f"{name} can include up to {RCS_CARD_BUTTONS} buttons")
    # Sampark's own card uploads are on this server: the phone shows them (other links are named).
    ours = OUR_CARD_MEDIA.search(urlsplit(media_url or "").path)
    return {"title": title, "description": description, "media_url": media_url, "media_token": ours["token"] if ours else "",
            "chips": _rcs_chips(suggestions, name)}


def _rcs_chips(suggestions, name: str | None) -> list[dict]:
    if suggestions is None:
        return []
    if not isinstance(suggestions, list):
        raise _refuse("suggestions must be a list")
    chips = []
    for suggestion in suggestions:
        kind = next((k for k in ("reply", "action") if isinstance(suggestion, dict) and isinstance(suggestion.get(k), dict)), None)
        if kind is None:
            raise _refuse("each suggestion is a reply or an action")
        body = suggestion[kind]
        title, postback = body.get("plainText"), (body.get("postBack") or {}).get("data") if isinstance(body.get("postBack"), dict) else None
        if not isinstance(title, str) or not title.strip() or not isinstance(postback, str) or not postback:
            raise _refuse("each suggestion needs plainText and postBack.data")
        chip = {"kind": kind, "action": "", "icon": "", "title": title, "postback": postback, "detail": ""}
        if kind == "action":
            action = next((a for a in RCS_ACTIONS if isinstance(body.get(a), dict)), None)
            if action is None:
                raise _refuse(f"suggested action “{title}” has none of {', '.join(RCS_ACTIONS)}")
            chip.update(action=action, icon=RCS_ACTIONS[action], detail=_rcs_action_detail(action, body[action], title))
        chips.append(chip)
    return chips


def _rcs_action_detail(action: str, value: dict, title: str) -> str:
    if action == "openUrl":
        url = value.get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise _refuse(f"openUrl of “{title}” must be an http(s) URL")
        return url
    if action == "dialerAction":
        number = phones.try_e164(str(value.get("phoneNumber") or ""))
        if number is None:
            raise _refuse("Invalid Phone number")
        return number
    if action == "showLocation":
        coordinates = value.get("coordinates") if isinstance(value.get("coordinates"), dict) else {}
        lat, lng = coordinates.get("latitude"), coordinates.get("longitude")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lat, lng)) or not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise _refuse(f"showLocation of “{title}” needs coordinates")
        return f"{value.get('label') or ''} ({lat}, {lng})".strip()
    if action == "createCalendarEvent":
        if not all(isinstance(value.get(k), str) and value.get(k) for k in ("startTime", "endTime", "title")):
            raise _refuse(f"createCalendarEvent of “{title}” needs startTime, endTime and title")
        return f"{value['title']}: {value['startTime']} – {value['endTime']}"
    return "asks for your location"


# ---------------------------------------------------------------- media and templates


def store_media(channel: Channel | None, upload, *, by_business: bool) -> SandboxMedia:
    content = upload.read()
    upload.seek(0)
    media = SandboxMedia(
        channel=channel,
        file_name=getattr(upload, "name", "") or "file",
        mime_type=getattr(upload, "content_type", "") or "application/octet-stream",
        sha256=base64.b64encode(hashlib.sha256(content).digest()).decode(),
        uploaded_by_business=by_business,
    )
    media.file.save(media.file_name, upload, save=False)
    media.save()
    return media


def media_link_token(media: SandboxMedia) -> str:
    return signing.dumps(media.media_id, salt="sandbox-media")


def media_for_link(token: str) -> SandboxMedia | None:
    try:
        media_id = signing.loads(token, salt="sandbox-media", max_age=FILE_LINK_MAX_AGE)
    except signing.BadSignature:
        return None
    return SandboxMedia.objects.filter(media_id=media_id).first()


def create_template(channel: Channel, definition) -> SandboxTemplate:
    if not isinstance(definition, dict) or not definition.get("name") or not isinstance(definition.get("components", []), list):
        raise SandboxError(400, {"error": "INVALID_REQUEST", "meta": {}, "message": "name and components are required", "traceId": trace_id()})
    language = definition.get("language") or "en"
    if isinstance(language, dict):
        language = language.get("code") or "en"
    if SandboxTemplate.objects.filter(channel=channel, name=definition["name"], language=language).exists():
        raise SandboxError(424, {
            "error": "CREATE_MESSAGE_TEMPLATE", "meta": {"message": "(#100) Content in this language already exists", "code": 100},
            "message": "Can't create the message template", "traceId": trace_id(),
        })
    return SandboxTemplate.objects.create(
        channel=channel,
        template_id=str(uuid.uuid4()),
        name=definition["name"],
        language=language,
        category=str(definition.get("category") or "UTILITY").upper(),
        components=definition.get("components") or [],
    )


def template_json(template: SandboxTemplate) -> dict:
    return {
        "id": template.template_id, "name": template.name, "language": template.language,
        "category": template.category, "status": template.status, "components": template.components,
    }


# ---------------------------------------------------------------- the customer writes


CUSTOMER_KINDS = ("text", "media", "location", "button_reply", "list_reply", "quick_reply", "reaction")


def customer_message(channel: Channel, customer: str, *, name: str = "", kind: str = "text", text: str = "",
                     media: SandboxMedia | None = None, reply_to: SandboxMessage | None = None,
                     choice_id: str = "", choice_title: str = "", emoji: str = "") -> tuple[SandboxMessage, bytes]:
    """Build the webhook Tata would post when the customer sends something; remember it. The caller posts it."""
    digits = phones.provider_digits(customer)
    message = {"from": digits, "id": new_wamid(), "timestamp": str(int(time.time()))}
    if reply_to is not None and kind != "reaction":
        message["context"] = {"from": phones.provider_digits(channel.phone_number), "id": reply_to.provider_message_id}
    if kind == "text":
        message.update(type="text", text={"body": text})
    elif kind == "media":
        media_kind = _media_kind(media.mime_type)
        obj = {"mime_type": media.mime_type, "sha256": media.sha256, "id": media.media_id}
        if media_kind == "document":
            obj["filename"] = media.file_name
        if text and media_kind in ("image", "video", "document"):
            obj["caption"] = text
        if media_kind == "audio":
            obj["voice"] = False
        message.update(type=media_kind, **{media_kind: obj})
    elif kind == "location":
        message.update(type="location", location={"latitude": 19.076, "longitude": 72.8777, "name": "Andheri East", "address": "Andheri East, Mumbai, Maharashtra"})
    elif kind in ("button_reply", "list_reply"):
        reply = {"id": choice_id, "title": choice_title}
        message.update(type="interactive", interactive={"type": kind, kind: reply})
    elif kind == "quick_reply":
        message.update(type="button", button={"payload": choice_id or choice_title, "text": choice_title})
    elif kind == "reaction":
        message.update(type="reaction", reaction={"message_id": reply_to.provider_message_id if reply_to else "", "emoji": emoji})
    else:
        raise ValueError(f"unknown customer message kind {kind!r}")
    stored = SandboxMessage.objects.create(
        channel=channel, customer=customer, direction=SandboxMessage.Direction.FROM_CUSTOMER,
        provider_message_id=message["id"], type=message["type"], payload=message,
    )
    envelope = {
        "contacts": [{"profile": {"name": name or "Sandbox customer"}, "wa_id": digits}],
        "messages": message,
        "businessPhoneNumber": channel.phone_number,
        "id": str(uuid.uuid4()),
    }
    return stored, _dump(envelope)


def customer_rcs_message(channel: Channel, customer: str, *, text: str = "", choice_id: str = "", choice_title: str = "",
                         choice_type: str = "REPLY", location: bool = False, reply_to: SandboxMessage | None = None) -> tuple[SandboxMessage, bytes]:
    """A user message; a tap on a suggestion of a business message names it in metaData.orgMsgId, as Tata does."""
    entity = {
        "messageId": "Mx" + secrets.token_urlsafe(16),
        "sendTime": timezone.now().isoformat().replace("+00:00", "Z"),
        "text": text or choice_title or "",
        "userFile": None,
        "location": {"latitude": 19.076, "longitude": 72.8777} if location else None,
        "suggestionResponse": {"postBack": {"data": choice_id}, "plainText": choice_title, "type": "ACTION" if choice_type == "ACTION" else "REPLY"}
        if choice_title else None,
    }
    stored = SandboxMessage.objects.create(
        channel=channel, customer=customer, direction=SandboxMessage.Direction.FROM_CUSTOMER,
        provider_message_id=entity["messageId"], type="rcs", payload=entity,
    )
    body = {"userPhoneNumber": customer, "botId": f"sandbox-bot-{channel.pk}", "entityType": "USER_MESSAGE", "entity": entity}
    if reply_to is not None and reply_to.direction == SandboxMessage.Direction.TO_CUSTOMER:
        body["metaData"] = {"orgMsgId": reply_to.provider_message_id, "orgMsgSendTime": reply_to.created_at.isoformat().replace("+00:00", "Z")}
    return stored, _dump(body)


def customer_rcs_typing(channel: Channel, customer: str) -> bytes:
    """The customer is typing: the reference's USER_EVENT TYPING (IS_TYPING in Google RBM's names)."""
    now = timezone.now().isoformat().replace("+00:00", "Z")
    entity = {"eventType": rcs_event_name("TYPING"), "sendTime": now, "senderPhoneNumber": customer, "eventId": "Mx" + secrets.token_urlsafe(16)}
    return _dump({"userPhoneNumber": customer, "botId": f"sandbox-bot-{channel.pk}", "entityType": "USER_EVENT", "entity": entity})


def _media_kind(mime_type: str) -> str:
    if mime_type == "image/webp":
        return "sticker"
    for kind in ("image", "video", "audio"):
        if mime_type.startswith(kind + "/"):
            return kind
    return "document"


def choices_of(message: SandboxMessage) -> list[dict]:
    """The buttons / list rows / quick replies a business message offers the customer to tap."""
    payload, kind = message.payload or {}, message.type
    if kind == "interactive":
        interactive = payload.get("interactive") or {}
        action = interactive.get("action") or {}
        if interactive.get("type") == "button":
            return [{"kind": "button_reply", "id": (b.get("reply") or {}).get("id", ""), "title": (b.get("reply") or {}).get("title", "")}
                    for b in action.get("buttons") or [] if isinstance(b, dict)]
        if interactive.get("type") == "list":
            return [{"kind": "list_reply", "id": r.get("id", ""), "title": r.get("title", "")}
                    for s in action.get("sections") or [] for r in s.get("rows") or [] if isinstance(r, dict)]
    if kind == "template":
        template = payload.get("template") or {}
        buttons = [c for c in template.get("components") or [] if isinstance(c, dict) and c.get("sub_type") in ("quick_reply", "QUICK_REPLY")]
        titles = []
        for component in buttons:
            for parameter in component.get("parameters") or []:
                if isinstance(parameter, dict) and parameter.get("payload"):
                    titles.append({"kind": "quick_reply", "id": parameter["payload"], "title": parameter["payload"].replace("_", " ").capitalize()})
        return titles
    return []  # RCS suggestions are drawn with their message or card (rcs_view)


def rcs_view_or_none(message: SandboxMessage) -> dict | None:
    try:
        return rcs_view((message.payload or {}).get("content"))
    except SandboxError:
        return None


def business_text(message: SandboxMessage) -> str:
    """What the customer reads on their phone for a business message."""
    payload, kind = message.payload or {}, message.type
    obj = payload.get(kind) if isinstance(payload.get(kind), dict) else {}
    if kind == "text":
        return obj.get("body", "")
    if kind in ("image", "video", "audio", "document", "sticker"):
        return f"[{kind}] " + (obj.get("caption") or obj.get("filename") or obj.get("link") or obj.get("id") or "")
    if kind == "location":
        return f"📍 {obj.get('name') or ''} {obj.get('address') or ''} ({obj.get('latitude')}, {obj.get('longitude')})"
    if kind == "interactive":
        return ((obj.get("body") or {}).get("text")) or "Interactive message"
    if kind == "template":
        parameters = [p.get("text") for c in obj.get("components") or [] if isinstance(c, dict)
                      for p in c.get("parameters") or [] if isinstance(p, dict) and p.get("text")]
        return f"Template “{obj.get('name')}”" + (f": {', '.join(parameters)}" if parameters else "")
    if kind == "reaction":
        return f"Reacted {obj.get('emoji', '')}"
    if kind == "rcs":
        view = rcs_view_or_none(message) or {}
        return view.get("text") or ("Carousel" if view.get("carousel") else "Rich card" if view.get("cards") else "RCS message")
    return kind or "message"
