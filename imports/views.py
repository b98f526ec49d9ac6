import csv

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.errors import ApplicationError
from imports import selectors, services
from imports import reports
from imports.forms import ExportQuestionsForm, ReportSettingsForm, UploadForm
from imports.models import ImportJob


def _check_may_import(request) -> None:
    if not selectors.can_import_history(request.user):
        raise PermissionDenied("Only supervisors and admins can import message history.")


def _job_or_404(request, pk) -> ImportJob:
    _check_may_import(request)
    return get_object_or_404(selectors.visible_jobs(request.user), pk=pk)


def upload(request):
    _check_may_import(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        create = services.create_whatsapp_job if upload.name.lower().endswith((".txt", ".zip")) else services.create_report_job
        try:
            job = create(by=request.user, upload=upload)
        except ApplicationError as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("imports:questions", pk=job.pk)
    jobs = selectors.visible_jobs(request.user)[:20]
    return render(request, "imports/upload.html", {"form": form, "jobs": jobs})


def questions(request, pk):
    job = _job_or_404(request, pk)
    if job.status != ImportJob.Status.NEEDS_ANSWERS:
        return redirect("imports:job", pk=job.pk)
    if job.kind == ImportJob.Kind.REPORT:
        return _report_mapping(request, job)
    senders = services.senders(job)
    initial = {"time_zone": job.time_zone, "business_sender": senders[0] if len(senders) == 1 else None}
    form = ExportQuestionsForm(
        request.POST or None, initial=initial, senders=senders, ask_date_order=not job.scan.get("date_order")
    )
    if request.method == "POST" and form.is_valid():
        answers = services.Answers(**{k: v or "" for k, v in form.cleaned_data.items() if k != "channel"}, channel=form.cleaned_data["channel"])
        try:
            services.start(job, answers, by=request.user)
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("imports:job", pk=job.pk)
    return render(request, "imports/questions.html", {"job": job, "form": form, "senders": job.scan.get("senders", [])})


def _report_mapping(request, job: ImportJob):
    columns = job.scan.get("columns", [])
    form = ReportSettingsForm(request.POST or None, initial={"time_zone": job.time_zone})
    mapping = {column: request.POST.get(f"map_{i}", "") for i, column in enumerate(columns)} if request.method == "POST" else job.mapping
    if request.method == "POST" and form.is_valid():
        try:
            services.start_report(job, mapping=mapping, by=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("imports:job", pk=job.pk)
    rows = [
        {"index": i, "name": column, "target": mapping.get(column, ""), "samples": [row.get(column, "") for row in job.scan.get("preview", [])]}
        for i, column in enumerate(columns)
    ]
    return render(request, "imports/mapping.html", {"job": job, "form": form, "columns": rows, "targets": reports.TARGETS})


def job_detail(request, pk):
    job = _job_or_404(request, pk)
    template = "imports/job.html#progress" if request.htmx else "imports/job.html"
    return render(request, template, {"job": job})


@require_POST
def cancel(request, pk):
    job = _job_or_404(request, pk)
    services.cancel(job, by=request.user)
    messages.info(request, "The import stops after the batch in hand; what was imported stays.")
    return redirect("imports:job", pk=job.pk)


class _Echo:
    def write(self, value):
        return value


def failures(request, pk):
    job = _job_or_404(request, pk)
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse((writer.writerow(row) for row in services.failures_csv_rows(job)), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-failed-lines.csv"'
    return response
