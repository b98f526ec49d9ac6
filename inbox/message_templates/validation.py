"""What a new WhatsApp template must satisfy before Tata sees it (the rules the reference and Meta behind
it state), and the definition built from what the create form collects (TemplateDraft)."""

import dataclasses
import json
import re

from core import phones
from core.errors import ApplicationError

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


def component(components: list[dict], kind: str) -> dict | None:
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
        header = component(components, "HEADER")
        if header is None or str(header.get("format", "")).upper() not in ("IMAGE", "VIDEO"):
            errors.append(f"Card {i} needs an image or video header.")
        buttons = (component(components, "BUTTONS") or {}).get("buttons") or []
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
