"""WhatsApp message templates: sync, create (with the rules the reference states), fill in and send,
and insights (sent / delivered / read per day, after the one-time insights opt-in)."""

import dataclasses
import datetime
import json
import re

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from contacts.models import Contact
from core import phones
from core.errors import ApplicationError
from inbox.models import Channel, Conversation, Message, Template, TemplateInsightsOptIn
from inbox.providers import tata_whatsapp as tata

# The language codes of the reference ("Get Template Insights By Name": available values).
LANGUAGES = (
    "af sq ar ar_EG ar_AE ar_LB ar_MA ar_QA az be_BY bn bn_IN bg ca zh_CN zh_HK zh_TW hr cs da prs_AF nl nl_BE en "
    "en_GB en_US en_AE en_AU en_CA en_GH en_IE en_IN en_JM en_MY en_NZ en_QA en_SG en_UG en_ZA et fil fi fr fr_BE "
    "fr_CA fr_CH fr_CI fr_MA ka de de_AT de_CH el gu ha he hi hu id ga it ja kn kk rw_RW ko ky_KG lo lv lt mk ms ml mr "
    "nb ps_AF fa pl pt_BR pt_PT pa ro ru sr si_LK sk sl es es_AR es_CL es_CO es_CR es_DO es_EC es_HN es_MX es_PA es_PE "
    "es_ES es_UY sw sv ta te th tr uk ur uz vi zu"
).split()
CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
# "TTL must be specified in seconds, with a minimum of 43,200 seconds (12 hours) and a maximum of
# 2,592,000 seconds (30 days)" — marketing templates only.
TTL_MIN, TTL_MAX = 43_200, 2_592_000
MAX_QUICK_REPLIES = 3  # "up to three quick reply buttons or only one dynamic URL button"
MAX_CAROUSEL_CARDS = 10  # "up to 10 carousel cards"
MAX_CARD_BUTTONS = 2
NAME_RE = re.compile(r"^[a-z0-9_]{1,512}$")
VARIABLE_RE = re.compile(r"{{\s*([A-Za-z0-9_]+)\s*}}")
MEDIA_FORMATS = ("IMAGE", "VIDEO", "DOCUMENT")


def variables(text: str) -> list[str]:
    seen = []
    for name in VARIABLE_RE.findall(text or ""):
        if name not in seen:
            seen.append(name)
    return seen


def _component(components: list[dict], kind: str) -> dict | None:
    return next((c for c in components or [] if str(c.get("type", "")).upper() == kind), None)


# ---------------------------------------------------------------- validating a new template


def validate_definition(definition: dict) -> list[str]:
    """Every rule the reference (and Meta behind it) states that we can check before Tata does."""
    errors = []
    name = definition.get("name", "")
    if not NAME_RE.match(name):
        errors.append("The name may use only lowercase letters, digits and underscores (e.g. order_update).")
    if definition.get("language") not in LANGUAGES:
        errors.append(f"“{definition.get('language')}” is not a WhatsApp template language code.")
    category = definition.get("category")
    if category not in CATEGORIES:
        errors.append("The category is MARKETING, UTILITY or AUTHENTICATION.")
    ttl = definition.get("message_send_ttl_seconds")
    if ttl is not None:
        if category != "MARKETING":
            errors.append("A time-to-live can be set on marketing templates only.")
        elif not isinstance(ttl, int) or not TTL_MIN <= ttl <= TTL_MAX:
            errors.append(f"The time-to-live is between {TTL_MIN:,} s (12 hours) and {TTL_MAX:,} s (30 days); 86,400 s is recommended.")
    components = definition.get("components")
    if not isinstance(components, list) or not components:
        return errors + ["A template needs components (at least a body)."]
    types = [str(c.get("type", "")).upper() for c in components if isinstance(c, dict)]
    for kind in ("HEADER", "BODY", "FOOTER", "BUTTONS", "CAROUSEL"):
        if types.count(kind) > 1:
            errors.append(f"A template has at most one {kind.lower()}.")
    if "BODY" not in types and category != "AUTHENTICATION":
        errors.append("A template needs a body text.")
    for component in components:
        kind = str(component.get("type", "")).upper()
        if kind == "HEADER":
            errors += _check_header(component)
        elif kind == "BODY":
            errors += _check_body(component, category)
        elif kind == "FOOTER":
            if len(component.get("text", "")) > 60:
                errors.append("The footer is at most 60 characters.")
            if variables(component.get("text", "")):
                errors.append("The footer cannot contain variables.")
        elif kind == "BUTTONS":
            errors += _check_buttons(component.get("buttons") or [])
        elif kind == "CAROUSEL":
            errors += _check_carousel(component.get("cards") or [])
        elif kind == "LIMITED_TIME_OFFER":
            if len((component.get("limited_time_offer") or {}).get("text", "")) > 16:
                errors.append("The limited-time offer text is at most 16 characters.")
    return errors


def _check_header(header: dict) -> list[str]:
    errors = []
    fmt = str(header.get("format", "TEXT")).upper()
    if fmt == "TEXT":
        text = header.get("text", "")
        if not text:
            errors.append("A text header needs its text.")
        if len(text) > 60:
            errors.append("The header text is at most 60 characters.")
        names = variables(text)
        if len(names) > 1:
            errors.append("The header can hold one variable at most.")
        if names and not (header.get("example") or {}).get("header_text"):
            errors.append("Give an example value for the header variable.")
    elif fmt in MEDIA_FORMATS:
        if not (header.get("example") or {}).get("header_handle"):
            errors.append(f"A {fmt.lower()} header needs a sample file (uploaded for a media handle).")
    elif fmt != "LOCATION":
        errors.append(f"“{fmt}” is not a header format (TEXT, IMAGE, VIDEO, DOCUMENT or LOCATION).")
    return errors


def _check_body(body: dict, category: str | None) -> list[str]:
    errors = []
    text = body.get("text", "")
    if category == "AUTHENTICATION":
        return errors  # Meta writes authentication bodies itself
    if not text.strip():
        errors.append("The body text is empty.")
    if len(text) > 1024:
        errors.append("The body is at most 1,024 characters.")
    names = variables(text)
    if names and all(n.isdigit() for n in names):
        if sorted(int(n) for n in names) != list(range(1, len(names) + 1)):
            errors.append("Number body variables in order: {{1}}, {{2}}, {{3}}…")
    elif names and any(n.isdigit() for n in names):
        errors.append("Use either numbered ({{1}}) or named ({{first_name}}) variables, not both.")
    if names:
        examples = (body.get("example") or {}).get("body_text") or [[]]
        if len(examples[0] if examples else []) != len(names):
            errors.append(f"Give an example value for each of the {len(names)} body variables.")
    if text.strip().startswith("{{") or text.strip().endswith("}}"):
        errors.append("The body cannot start or end with a variable.")
    return errors


def _check_buttons(buttons: list[dict]) -> list[str]:
    errors = []
    kinds = [str(b.get("type", "")).upper() for b in buttons]
    if not buttons:
        errors.append("A buttons component needs at least one button.")
    if kinds.count("QUICK_REPLY") > MAX_QUICK_REPLIES:
        errors.append(f"At most {MAX_QUICK_REPLIES} quick-reply buttons.")
    if kinds.count("URL") > 2:
        errors.append("At most 2 website buttons.")
    if sum(1 for b in buttons if str(b.get("type", "")).upper() == "URL" and variables(b.get("url", ""))) > 1:
        errors.append("Only one website button can have a variable.")
    if kinds.count("PHONE_NUMBER") > 1:
        errors.append("At most 1 call button.")
    if kinds.count("COPY_CODE") > 1:
        errors.append("At most 1 copy-code button.")
    if len(buttons) > 10:
        errors.append("At most 10 buttons.")
    for button in buttons:
        kind = str(button.get("type", "")).upper()
        text = button.get("text", "")
        if kind not in ("COPY_CODE", "OTP", "CATALOG", "MPM", "FLOW", "VOICE_CALL") and not text:
            errors.append("Every button needs a label.")
        if len(text) > 25:
            errors.append(f"Button “{text}” is longer than 25 characters.")
        if kind == "URL" and not re.match(r"^https?://", button.get("url", "")):
            errors.append(f"Button “{text}” needs a website address starting with https://.")
        if kind == "PHONE_NUMBER" and not phones.try_e164(button.get("phone_number", "")):
            errors.append(f"Button “{text}” needs a valid phone number.")
    return errors


def _check_carousel(cards: list[dict]) -> list[str]:
    errors = []
    if not 2 <= len(cards) <= MAX_CAROUSEL_CARDS:
        errors.append(f"A carousel has between 2 and {MAX_CAROUSEL_CARDS} cards.")
    for i, card in enumerate(cards, 1):
        components = card.get("components") or []
        header = _component(components, "HEADER")
        if header is None or str(header.get("format", "")).upper() not in ("IMAGE", "VIDEO"):
            errors.append(f"Card {i} needs an image or video header.")
        buttons = (_component(components, "BUTTONS") or {}).get("buttons") or []
        if not 1 <= len(buttons) <= MAX_CARD_BUTTONS:
            errors.append(f"Card {i} has 1 or {MAX_CARD_BUTTONS} buttons.")
    return errors


@dataclasses.dataclass
class TemplateDraft:
    """What the create form collects; `components_json` (advanced) replaces the built components."""

    name: str
    language: str
    category: str
    body: str = ""
    body_examples: list[str] = dataclasses.field(default_factory=list)
    header_format: str = ""  # "", TEXT, IMAGE, VIDEO, DOCUMENT, LOCATION
    header_text: str = ""
    header_example: str = ""
    header_file: object = None  # an UploadedFile for media headers
    footer: str = ""
    buttons: list[dict] = dataclasses.field(default_factory=list)  # {type, text, url/phone_number/example}
    ttl_seconds: int | None = None
    components_json: str = ""


def build_definition(draft: TemplateDraft, *, header_handle: str = "") -> dict:
    if draft.components_json.strip():
        try:
            components = json.loads(draft.components_json)
        except ValueError as exc:
            raise ApplicationError(f"The components are not valid JSON: {exc}") from None
        if not isinstance(components, list):
            raise ApplicationError("The components JSON must be a list of components.")
    else:
        components = []
        fmt = draft.header_format.upper()
        if fmt == "TEXT":
            header = {"type": "HEADER", "format": "TEXT", "text": draft.header_text}
            if variables(draft.header_text):
                header["example"] = {"header_text": [draft.header_example]}
            components.append(header)
        elif fmt in MEDIA_FORMATS:
            components.append({"type": "HEADER", "format": fmt, "example": {"header_handle": [header_handle] if header_handle else []}})
        elif fmt == "LOCATION":
            components.append({"type": "HEADER", "format": "LOCATION"})
        body = {"type": "BODY", "text": draft.body}
        if variables(draft.body):
            body["example"] = {"body_text": [list(draft.body_examples)]}
        components.append(body)
        if draft.footer:
            components.append({"type": "FOOTER", "text": draft.footer})
        buttons = []
        for b in draft.buttons:
            kind = b.get("type", "").upper()
            if kind == "QUICK_REPLY":
                buttons.append({"type": "QUICK_REPLY", "text": b.get("text", "")})
            elif kind == "URL":
                button = {"type": "URL", "text": b.get("text", ""), "url": b.get("value", "")}
                if variables(button["url"]):
                    button["example"] = [b.get("example") or button["url"].replace("{{1}}", "sample")]
                buttons.append(button)
            elif kind == "PHONE_NUMBER":
                buttons.append({"type": "PHONE_NUMBER", "text": b.get("text", ""), "phone_number": phones.try_e164(b.get("value", "")) or b.get("value", "")})
            elif kind == "COPY_CODE":
                buttons.append({"type": "COPY_CODE", "example": b.get("value", "") or "CODE10"})
        if buttons:
            components.append({"type": "BUTTONS", "buttons": buttons})
    definition = {"name": draft.name.strip(), "language": draft.language, "category": draft.category, "components": components}
    if draft.ttl_seconds is not None:
        definition["message_send_ttl_seconds"] = draft.ttl_seconds
    return definition


def create_template(channel: Channel, draft: TemplateDraft, *, by: User | None) -> Template:
    """Validate, upload the sample header file for a media handle, create at Tata, store as PENDING."""
    definition = build_definition(draft, header_handle="pending" if draft.header_file else "")
    errors = validate_definition(definition)
    if draft.header_format.upper() in MEDIA_FORMATS and not draft.header_file and not draft.components_json.strip():
        errors = [e for e in errors if "sample file" not in e] + [f"Attach a sample {draft.header_format.lower()} for the header."]
    if Template.objects.filter(channel=channel, name=definition["name"], language=definition["language"]).exists():
        errors.append(f"{definition['name']} ({definition['language']}) already exists on this number.")
    if errors:
        raise ApplicationError(" ".join(errors), code="invalid_template", extra={"errors": errors})
    try:
        if draft.header_file is not None and not draft.components_json.strip():
            from inbox.outbound import check_media

            _, mime = check_media(draft.header_file.name, getattr(draft.header_file, "content_type", ""), draft.header_file.size)
            handle = tata.upload_media_handle(
                channel.api_base_url, channel.authorization, file_name=draft.header_file.name, content=draft.header_file.read(), mime_type=mime
            )
            definition = build_definition(draft, header_handle=handle)
        template_id = tata.create_template(channel.api_base_url, channel.authorization, definition)
    except tata.TataError as exc:
        raise ApplicationError(f"Tata refused the template: {exc.message}", code="provider_error") from exc
    return Template.objects.create(
        channel=channel, name=definition["name"], language=definition["language"], category=definition["category"],
        status="PENDING", components=definition["components"], provider_template_id=template_id, synced_at=timezone.now(),
    )


# ---------------------------------------------------------------- syncing


def last_synced(channel: Channel):
    """When the number's templates were last read from (or created at) Tata; None if never."""
    return Template.objects.filter(channel=channel).aggregate(last=Max("synced_at"))["last"]


def sync_templates(channel: Channel) -> dict:
    """Bring the number's templates in from Tata: new ones added, changed ones updated, ones Tata no
    longer lists marked DELETED (kept: sent messages still name them). Returns counts."""
    try:
        remote = tata.list_templates(channel.api_base_url, channel.authorization)
    except tata.TataError as exc:
        raise ApplicationError(f"Could not fetch templates from Tata: {exc.message}", code="provider_error") from exc
    now = timezone.now()
    seen, created, updated = set(), 0, 0
    with transaction.atomic():
        for item in remote:
            name = item.get("name")
            language = item.get("language")
            if isinstance(language, dict):
                language = language.get("code")
            if not name or not language:
                continue
            seen.add((name, language))
            defaults = {
                "category": str(item.get("category") or "").upper(),
                "status": str(item.get("status") or "").upper(),
                "components": item.get("components") or [],
                "provider_template_id": str(item.get("id") or ""),
                "rejection_reason": str(item.get("rejected_reason") or item.get("rejection_reason") or "").replace("NONE", ""),
                "synced_at": now,
            }
            _, was_created = Template.objects.update_or_create(channel=channel, name=name, language=language, defaults=defaults)
            created += was_created
            updated += not was_created
        gone = [t.pk for t in Template.objects.filter(channel=channel).exclude(status="DELETED") if (t.name, t.language) not in seen]
        Template.objects.filter(pk__in=gone).update(status="DELETED", synced_at=now)
    return {"created": created, "updated": updated, "deleted": len(gone)}


# ---------------------------------------------------------------- filling in and sending


@dataclasses.dataclass
class Field:
    key: str  # header_1, body_1, body_first_name, button_0, header_media, header_location
    label: str
    kind: str = "text"  # text, media, location
    example: str = ""


def template_fields(template: Template) -> list[Field]:
    """The blanks a person fills in before sending this template."""
    fields = []
    header = _component(template.components, "HEADER")
    if header:
        fmt = str(header.get("format", "TEXT")).upper()
        if fmt == "TEXT":
            examples = (header.get("example") or {}).get("header_text") or []
            for i, name in enumerate(variables(header.get("text", ""))):
                fields.append(Field(f"header_{name}", f"Header {{{{{name}}}}}", example=examples[i] if i < len(examples) else ""))
        elif fmt in MEDIA_FORMATS:
            fields.append(Field("header_media", f"Header {fmt.lower()}", kind="media"))
        elif fmt == "LOCATION":
            fields.append(Field("header_location", "Header location", kind="location"))
    body = _component(template.components, "BODY")
    if body:
        examples = ((body.get("example") or {}).get("body_text") or [[]])[0]
        for i, name in enumerate(variables(body.get("text", ""))):
            fields.append(Field(f"body_{name}", f"Body {{{{{name}}}}}", example=examples[i] if i < len(examples) else ""))
    for index, button in enumerate((_component(template.components, "BUTTONS") or {}).get("buttons") or []):
        kind = str(button.get("type", "")).upper()
        if kind == "URL" and variables(button.get("url", "")):
            fields.append(Field(f"button_{index}", f"Link ending for “{button.get('text', '')}” ({button.get('url')})"))
        elif kind == "COPY_CODE":
            fields.append(Field(f"button_{index}", "Coupon code", example=str(button.get("example", ""))))
    return fields


CONTACT_TOKENS = {
    "{name}": lambda c: c.name,
    "{first_name}": lambda c: (c.name or "").split(" ")[0],
    "{phone}": lambda c: phones.display(c.primary_phone) if c.primary_phone else "",
    "{email}": lambda c: c.email,
}


def resolve_value(value: str, contact: Contact | None) -> str:
    """A value may name a contact field — {name}, {first_name}, {phone}, {email}, {custom.city} — so
    one campaign fills each recipient's own details."""
    if contact is None or "{" not in (value or ""):
        return value or ""
    for token, getter in CONTACT_TOKENS.items():
        if token in value:
            value = value.replace(token, getter(contact) or "")
    return re.sub(r"{custom\.([a-z0-9_-]+)}", lambda m: str(contact.custom_fields.get(m.group(1), "")), value)


def _text(value: str) -> dict:
    return {"type": "text", "text": value}


def send_components(template: Template, values: dict, *, contact: Contact | None = None, header_upload: bool = False) -> tuple[list[dict], str]:
    """(components for the send request, the text the customer will read). Every blank must be filled."""
    values = {k: resolve_value(str(v), contact).strip() for k, v in values.items()}
    missing = [f.label for f in template_fields(template) if f.kind == "text" and not values.get(f.key)]
    if missing:
        raise ApplicationError("Fill in " + ", ".join(missing) + ".", code="template_values")
    components = []
    header = _component(template.components, "HEADER")
    header_preview = ""
    if header:
        fmt = str(header.get("format", "TEXT")).upper()
        if fmt == "TEXT" and variables(header.get("text", "")):
            names = variables(header["text"])
            components.append({"type": "header", "parameters": [_named(n, values[f"header_{n}"]) for n in names]})
            header_preview = _fill(header["text"], {n: values[f"header_{n}"] for n in names})
        elif fmt == "TEXT":
            header_preview = header.get("text", "")
        elif fmt in MEDIA_FORMATS:
            kind = fmt.lower()
            link = values.get("header_media", "")
            if not header_upload and not re.match(r"^https?://", link):
                raise ApplicationError(f"This template starts with a {kind}: attach one or give its https:// link.")
            components.append({"type": "header", "parameters": [{"type": kind, kind: {} if header_upload else {"link": link}}]})
            header_preview = f"[{kind}]"
        elif fmt == "LOCATION":
            try:
                lat, lng = (float(x) for x in values.get("header_location", "").split(","))
            except ValueError:
                raise ApplicationError("Give the header location as “latitude, longitude”.") from None
            components.append({"type": "header", "parameters": [{"type": "location", "location": {"latitude": lat, "longitude": lng}}]})
            header_preview = "📍"
    body = _component(template.components, "BODY") or {}
    names = variables(body.get("text", ""))
    if names:
        components.append({"type": "body", "parameters": [_named(n, values[f"body_{n}"]) for n in names]})
    body_preview = _fill(body.get("text", ""), {n: values.get(f"body_{n}", "") for n in names})
    for index, button in enumerate((_component(template.components, "BUTTONS") or {}).get("buttons") or []):
        kind = str(button.get("type", "")).upper()
        # The reference names the key `subtype` ("Required when type=button") and `index` from 0.
        if kind == "URL" and variables(button.get("url", "")):
            components.append({"type": "button", "subtype": "url", "index": index, "parameters": [_text(values[f"button_{index}"])]})
        elif kind == "COPY_CODE":
            components.append({"type": "button", "subtype": "copy_code", "index": index, "parameters": [{"type": "coupon_code", "coupon_code": values[f"button_{index}"]}]})
        elif kind == "OTP" and names:
            components.append({"type": "button", "subtype": "url", "index": index, "parameters": [_text(values[f"body_{names[0]}"])]})
    footer = (_component(template.components, "FOOTER") or {}).get("text", "")
    preview = "\n".join(p for p in (header_preview, body_preview, footer) if p)
    return components, preview


def _named(name: str, value: str) -> dict:
    parameter = _text(value)
    if not name.isdigit():
        parameter["parameter_name"] = name
    return parameter


def _fill(text: str, values: dict) -> str:
    return VARIABLE_RE.sub(lambda m: values.get(m.group(1)) or m.group(0), text or "")


def preview(template: Template, values: dict, contact: Contact | None = None) -> str:
    """The message as the customer will read it, blanks left as {{n}} until filled."""
    body = (_component(template.components, "BODY") or {}).get("text", "")
    header = _component(template.components, "HEADER") or {}
    resolved = {k: resolve_value(str(v), contact) for k, v in values.items() if v}
    parts = []
    if str(header.get("format", "")).upper() == "TEXT":
        parts.append(_fill(header.get("text", ""), {k[7:]: v for k, v in resolved.items() if k.startswith("header_")}))
    elif header:
        parts.append(f"[{str(header.get('format', '')).lower()}]")
    parts.append(_fill(body, {k[5:]: v for k, v in resolved.items() if k.startswith("body_")}))
    footer = (_component(template.components, "FOOTER") or {}).get("text", "")
    return "\n".join(p for p in parts + [footer] if p)


def send_template(
    conversation: Conversation, template: Template, values: dict, *, by: User | None, header_upload=None,
) -> Message:
    from inbox.outbound import send_template_message

    components, text = send_components(template, values, contact=conversation.contact, header_upload=header_upload is not None)
    return send_template_message(conversation, template, by=by, components=components, preview=text, header_upload=header_upload)


def sendable_templates(channel: Channel):
    return Template.objects.filter(channel=channel, status="APPROVED").order_by("name", "language")


# ---------------------------------------------------------------- insights


def insights_enabled(channel: Channel) -> bool:
    return TemplateInsightsOptIn.objects.filter(channel=channel).exists()


def enable_insights(channel: Channel, *, by: User | None) -> TemplateInsightsOptIn:
    """Tata's one-time opt-in for template insights, remembered so it is asked once."""
    existing = TemplateInsightsOptIn.objects.filter(channel=channel).first()
    if existing:
        return existing
    try:
        tata.enable_template_insights(channel.api_base_url, channel.authorization)
    except tata.TataError as exc:
        raise ApplicationError(f"Tata did not switch insights on: {exc.message}", code="provider_error") from exc
    optin, _ = TemplateInsightsOptIn.objects.get_or_create(channel=channel, defaults={"enabled_at": timezone.now(), "enabled_by": by})
    return optin


@dataclasses.dataclass
class Day:
    date: datetime.date
    sent: int = 0
    delivered: int = 0
    read: int = 0


def template_insights(template: Template, *, days: int = 30, today: datetime.date | None = None) -> list[Day]:
    """Sent / delivered / read per day for the last `days` days (days without data count zero)."""
    channel = template.channel
    if not insights_enabled(channel):
        raise ApplicationError("Template insights are off for this number; switch them on first (once).", code="insights_off")
    today = today or timezone.localdate()
    start = today - datetime.timedelta(days=days - 1)
    try:
        if template.provider_template_id:
            points = tata.template_insights(channel.api_base_url, channel.authorization, [template.provider_template_id], start, today)
        else:
            points = tata.template_insights_by_name(channel.api_base_url, channel.authorization, template.name, template.language, start, today)
    except tata.TataError as exc:
        raise ApplicationError(f"Tata could not give insights: {exc.message}", code="provider_error") from exc
    by_day = {start + datetime.timedelta(days=i): Day(start + datetime.timedelta(days=i)) for i in range(days)}
    for point in points:
        if template.provider_template_id and str(point.get("template_id", "")) not in ("", template.provider_template_id):
            continue
        day = datetime.datetime.fromtimestamp(int(point.get("start", 0)), tz=datetime.UTC).date()
        if day in by_day:
            by_day[day].sent += int(point.get("sent") or 0)
            by_day[day].delivered += int(point.get("delivered") or 0)
            by_day[day].read += int(point.get("read") or 0)
    return list(by_day.values())
