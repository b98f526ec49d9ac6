from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.selectors import assignable_users, can_delete_contacts, can_manage_contacts_in_bulk
from contacts import csv_io, selectors, services
from contacts.forms import ContactForm, ImportUploadForm, NoteForm
from contacts.models import Contact, CustomField, ImportJob, Label
from contacts.timeline import timeline_for
from core.untrusted import row_id

PAGE_SIZE = 50


def _filtered(request):
    contacts = selectors.visible_contacts(request.user)
    contacts = selectors.search_contacts(contacts, request.GET.get("q", ""))
    return selectors.filter_contacts(
        contacts, user=request.user, label=request.GET.get("label"), owner=request.GET.get("owner")
    )


def contact_list(request):
    page = Paginator(selectors.with_list_data(_filtered(request)), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "q": request.GET.get("q", ""),
        "labels": Label.objects.all(),
        "owners": assignable_users(request.user),
        "can_bulk": can_manage_contacts_in_bulk(request.user),
    }
    if request.htmx and request.htmx.target == "contact-results":
        return render(request, "contacts/list.html#results", context)
    return render(request, "contacts/list.html", context)


def _visible_or_404(request, pk) -> Contact:
    return get_object_or_404(selectors.visible_contacts(request.user), pk=pk)


def contact_detail(request, pk):
    contact = _visible_or_404(request, pk)
    return render(
        request,
        "contacts/detail.html",
        {
            "contact": contact,
            "timeline": timeline_for(contact, request.user),
            "custom_field_rows": [
                (definition.label, _shown(contact.custom_fields[definition.key]))
                for definition in CustomField.objects.all()
                if contact.custom_fields.get(definition.key) not in (None, "")
            ],
            "note_form": NoteForm(),
            "all_labels": Label.objects.all(),
            "can_bulk": can_manage_contacts_in_bulk(request.user),
            "can_delete": can_delete_contacts(request.user),
        },
    )


def _shown(value) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


def contact_create(request):
    form = ContactForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        contact = form.save(by=request.user)
        if contact:
            messages.success(request, f"{contact} was created.")
            return redirect(contact)
    return render(request, "contacts/form.html", {"form": form, "title": "New contact"})


def contact_edit(request, pk):
    contact = _visible_or_404(request, pk)
    form = ContactForm(request.POST or None, user=request.user, contact=contact)
    if request.method == "POST" and form.is_valid():
        if form.save(by=request.user):
            messages.success(request, "Saved.")
            return redirect(contact)
    return render(request, "contacts/form.html", {"form": form, "contact": contact, "title": f"Edit {contact}"})


@require_POST
def contact_delete(request, pk):
    if not can_delete_contacts(request.user):
        raise PermissionDenied("Only admins can delete contacts.")
    contact = _visible_or_404(request, pk)
    name = str(contact)
    contact.delete()
    messages.success(request, f"{name} was deleted.")
    return redirect("contacts:list")


@require_POST
def note_add(request, pk):
    contact = _visible_or_404(request, pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        services.add_note(contact, author=request.user, body=form.cleaned_data["body"])
    else:
        messages.error(request, "A note cannot be empty.")
    return redirect(contact)


@require_POST
def label_toggle(request, pk):
    contact = _visible_or_404(request, pk)
    label = get_object_or_404(Label, pk=row_id(request.POST.get("label")))
    if contact.labels.filter(pk=label.pk).exists():
        services.remove_label(contact, label)
    else:
        services.add_label(contact, label)
    if request.htmx:
        return render(request, "contacts/detail.html#labels", {"contact": contact, "all_labels": Label.objects.all()})
    return redirect(contact)


def contact_merge(request, pk):
    if not can_manage_contacts_in_bulk(request.user):
        raise PermissionDenied("Only supervisors and admins can merge contacts.")
    contact = _visible_or_404(request, pk)
    if request.method == "POST":
        duplicate = _visible_or_404(request, row_id(request.POST.get("other")))
        try:
            kept = services.merge_contacts(contact, duplicate, by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("contacts:merge", pk=contact.pk)
        messages.success(request, f"Merged into {kept}.")
        return redirect(kept)
    query = request.GET.get("q", "")
    candidates = []
    if query:
        candidates = selectors.with_list_data(
            selectors.search_contacts(selectors.visible_contacts(request.user), query).exclude(pk=contact.pk)
        )[:20]
    return render(request, "contacts/merge.html", {"contact": contact, "q": query, "candidates": candidates})


def contact_export(request):
    if not can_manage_contacts_in_bulk(request.user):
        raise PermissionDenied("Only supervisors and admins can export contacts.")
    contacts = selectors.with_list_data(_filtered(request)).order_by("pk").iterator(chunk_size=1000)
    response = StreamingHttpResponse(csv_io.export_csv_lines(contacts), content_type="text/csv")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="contacts-{stamp}.csv"'
    return response


def import_upload(request):
    if not can_manage_contacts_in_bulk(request.user):
        raise PermissionDenied("Only supervisors and admins can import contacts.")
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = csv_io.create_job(by=request.user, file_name=upload.name, content=csv_io.read_upload(upload))
        except ValidationError as exc:
            form.add_error("file", exc.messages)
        else:
            return redirect("contacts:import_mapping", pk=job.pk)
    jobs = ImportJob.objects.filter(created_by=request.user)[:10]
    return render(request, "contacts/import_upload.html", {"form": form, "jobs": jobs})


def _own_job(request, pk) -> ImportJob:
    if not can_manage_contacts_in_bulk(request.user):
        raise PermissionDenied("Only supervisors and admins can import contacts.")
    return get_object_or_404(ImportJob, pk=pk)


def import_mapping(request, pk):
    job = _own_job(request, pk)
    header, preview = csv_io.header_and_preview(job.content)
    error = None
    if request.method == "POST":
        mapping = {column: request.POST.get(f"map_{i}", "") for i, column in enumerate(header)}
        try:
            csv_io.start_job(job, mapping)
        except ValidationError as exc:
            error, job.mapping = " ".join(exc.messages), mapping
        else:
            return redirect("contacts:import_progress", pk=job.pk)
    columns = [
        {"index": i, "name": column, "target": job.mapping.get(column, ""), "samples": [r[i] for r in preview if i < len(r)]}
        for i, column in enumerate(header)
    ]
    return render(
        request,
        "contacts/import_mapping.html",
        {"job": job, "columns": columns, "targets": csv_io.targets(), "error": error},
    )


def import_progress(request, pk):
    job = _own_job(request, pk)
    template = "contacts/import_progress.html#progress" if request.htmx else "contacts/import_progress.html"
    return render(request, template, {"job": job})
