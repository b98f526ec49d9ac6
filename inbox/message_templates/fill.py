"""Filling a template in: the blanks a person fills (template_fields), values that name contact fields
({first_name}), the send request's components and the text the customer reads, and sending it."""

import dataclasses
import re

from accounts.models import User
from contacts.models import Contact
from core import phones
from core.errors import ApplicationError
from inbox.message_templates.validation import MEDIA_FORMATS, VARIABLE_RE, component, variables
from inbox.models import Channel, Conversation, Message, Template
from inbox.outbound.send import send_template_message, send_template_messages


@dataclasses.dataclass
class Field:
    key: str  # header_1, body_1, body_first_name, button_0, header_media, header_location
    label: str
    kind: str = "text"  # text, media, location
    example: str = ""


def template_fields(template: Template) -> list[Field]:
    """The blanks a person fills in before sending this template."""
    fields = []
    header = component(template.components, "HEADER")
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
    body = component(template.components, "BODY")
    if body:
        examples = ((body.get("example") or {}).get("body_text") or [[]])[0]
        for i, name in enumerate(variables(body.get("text", ""))):
            fields.append(Field(f"body_{name}", f"Body {{{{{name}}}}}", example=examples[i] if i < len(examples) else ""))
    for index, button in enumerate((component(template.components, "BUTTONS") or {}).get("buttons") or []):
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
    header = component(template.components, "HEADER")
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
    body = component(template.components, "BODY") or {}
    names = variables(body.get("text", ""))
    if names:
        components.append({"type": "body", "parameters": [_named(n, values[f"body_{n}"]) for n in names]})
    body_preview = _fill(body.get("text", ""), {n: values.get(f"body_{n}", "") for n in names})
    for index, button in enumerate((component(template.components, "BUTTONS") or {}).get("buttons") or []):
        kind = str(button.get("type", "")).upper()
        # The reference names the key `subtype` ("Required when type=button") and `index` from 0.
        if kind == "URL" and variables(button.get("url", "")):
            components.append({"type": "button", "subtype": "url", "index": index, "parameters": [_text(values[f"button_{index}"])]})
        elif kind == "COPY_CODE":
            components.append({"type": "button", "subtype": "copy_code", "index": index, "parameters": [{"type": "coupon_code", "coupon_code": values[f"button_{index}"]}]})
        elif kind == "OTP" and names:
            components.append({"type": "button", "subtype": "url", "index": index, "parameters": [_text(values[f"body_{names[0]}"])]})
    footer = (component(template.components, "FOOTER") or {}).get("text", "")
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
    body = (component(template.components, "BODY") or {}).get("text", "")
    header = component(template.components, "HEADER") or {}
    resolved = {k: resolve_value(str(v), contact) for k, v in values.items() if v}
    parts = []
    if str(header.get("format", "")).upper() == "TEXT":
        parts.append(_fill(header.get("text", ""), {k[7:]: v for k, v in resolved.items() if k.startswith("header_")}))
    elif header:
        parts.append(f"[{str(header.get('format', '')).lower()}]")
    parts.append(_fill(body, {k[5:]: v for k, v in resolved.items() if k.startswith("body_")}))
    footer = (component(template.components, "FOOTER") or {}).get("text", "")
    return "\n".join(p for p in parts + [footer] if p)


def send_template(
    conversation: Conversation, template: Template, values: dict, *, by: User | None, header_upload=None,
) -> Message:
    components, text = send_components(template, values, contact=conversation.contact, header_upload=header_upload is not None)
    return send_template_message(conversation, template, by=by, components=components, preview=text, header_upload=header_upload)


def send_templates(conversations: list[Conversation], template: Template, values: dict) -> list[Message | ApplicationError]:
    """A campaign's chunk: the template filled for each conversation's contact and queued together
    (inbox.outbound.send.send_template_messages); each → its message, or why it cannot go."""
    filled, drafts = [], []
    for conversation in conversations:
        try:
            components, text = send_components(template, values, contact=conversation.contact)
        except ApplicationError as exc:
            filled.append(exc)
        else:
            filled.append(None)
            drafts.append((conversation, components, text))
    queued = iter(send_template_messages(template, drafts))
    return [outcome or next(queued) for outcome in filled]


def sendable_templates(channel: Channel):
    return Template.objects.filter(channel=channel, status="APPROVED").order_by("name", "language")
