"""Template definitions at Tata: create one (validated, with its sample header uploaded for a media
handle) and bring the number's templates in (sync)."""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from core.errors import ApplicationError
from inbox.message_templates.validation import MEDIA_FORMATS, TemplateDraft, build_definition, validate_definition
from inbox.models import Channel, Template
from inbox.outbound.rules import check_media
from inbox.providers import tata_whatsapp as tata


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
