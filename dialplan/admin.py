"""Django admin for dialplans: rules without code, the values to paste into Smartflo, one-click
templates for the reference's four solutions, request logs, and the call simulator."""

import json
import uuid

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.models import BaseInlineFormSet
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from core.admin import KeepSecretsMixin
from dialplan import answers, selectors, services, validation
from dialplan.models import (
    Dialplan,
    DialplanRequest,
    Holiday,
    MaskedPair,
    Recording,
    Region,
    RegionPrefix,
    Rule,
    Schedule,
    ScheduleWindow,
)

BODY_TEMPLATE = {
    "uuid": "$uuid",
    "call_id": "$call_id",
    "call_to_number": "$call_to_number",
    "caller_id_number": "$caller_id_number",
    "start_stamp": "$start_stamp",
    "last_dtmf": "$last_dtmf",
    "call_flow": "$call_flow",
}
BODY_EXAMPLE = {
    "uuid": "7611",
    "call_id": "1642000000.000012",
    "call_to_number": "+91-8069000000",
    "caller_id_number": "+91-9812345678",
    "start_stamp": "2025-01-15 10:30:00",
    "last_dtmf": "1",
    "call_flow": "",
}
MAX_SIMULATED_STEPS = answers.MAX_NESTED_DIALPLANS


class RuleFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        failovers = [
            form for form in self.forms
            if form.cleaned_data.get("is_failover") and not form.cleaned_data.get("DELETE")
        ]
        if len(failovers) > 1:
            raise ValidationError("Only one rule can be the failover.")


class RuleInline(admin.StackedInline):
    model = Rule
    formset = RuleFormSet
    extra = 0
    fk_name = "dialplan"
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    autocomplete_fields = ["recording", "moh", "next_dialplan"]
    filter_horizontal = ["caller_labels"]
    fieldsets = [
        (None, {"fields": [("position", "name", "enabled", "is_failover")]}),
        (
            "When (every condition set must hold)",
            {
                "fields": [
                    ("caller_known", "caller_has_owner"),
                    "caller_labels",
                    ("caller_regions", "called_numbers"),
                    ("schedule", "schedule_state"),
                    ("dtmf_values", "pair_match"),
                ]
            },
        ),
        (
            "Then",
            {
                "fields": [
                    "action",
                    ("recording", "recording_url"),
                    ("collect_dtmf", "dtmf_timeout", "dtmf_max_length", "dtmf_retry"),
                    "next_dialplan",
                    ("transfer_type", "transfer_to"),
                    ("ring_type", "moh", "skip_active"),
                ]
            },
        ),
    ]


@admin.register(Dialplan)
class DialplanAdmin(KeepSecretsMixin, admin.ModelAdmin):
    list_display = ["name", "is_active", "smartflo_id", "numbers", "rule_count", "updated_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "description", "smartflo_id", "numbers"]
    inlines = [RuleInline]
    readonly_fields = ["smartflo_setup", "setup_checklist", "recent_requests"]
    # Admin maps every TextField to a textarea; the header value is a secret and stays masked.
    fieldsets = [
        (None, {"fields": ["name", "description", "is_active", "numbers"]}),
        ("In Smartflo", {"fields": ["smartflo_setup", "smartflo_id", "method", "header_key", "header_value"]}),
        ("Status", {"fields": ["setup_checklist", "recent_requests"]}),
    ]

    class Media:
        css = {"all": ["dialplan/admin.css"]}
        js = ["dialplan/admin.js"]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(rule_total=Count("rules"))

    @admin.display(description="rules", ordering="rule_total")
    def rule_count(self, obj):
        return obj.rule_total

    @admin.display(description="Paste into Smartflo (API Connect › API Dialplan › Add)")
    def smartflo_setup(self, obj):
        if not obj.pk:
            return "Save the dialplan to get its URL."
        template = json.dumps(BODY_TEMPLATE, indent=2)
        example = json.dumps(BODY_EXAMPLE, indent=2)
        header = (
            format_html("<dt>Header (Advanced Settings)</dt><dd><code>{}</code> = the value saved below</dd>", obj.header_key)
            if obj.header_key
            else format_html("<dt>Header (Advanced Settings)</dt><dd>{}</dd>", "none (optional: set a key and value below)")
        )
        return format_html(
            '<dl class="dp-setup">'
            '<dt>URL</dt><dd><code id="dp-url">{url}</code> <button type="button" class="button dp-copy" data-copy="#dp-url">Copy</button></dd>'
            "<dt>Request Method</dt><dd><code>{method}</code> (GET sends the variables as a query string; both work)</dd>"
            '<dt>Request Body</dt><dd><pre id="dp-body" data-template="{template}" data-example="{example}">{template}</pre>'
            '<button type="button" class="button dp-copy" data-copy="#dp-body">Copy</button> '
            '<button type="button" class="button dp-example" data-target="#dp-body">Insert example</button></dd>'
            "{header}"
            "<dt>Failover Destination</dt><dd>where calls go if we cannot be reached; also used when this dialplan "
            "answers nothing (it is off, or no rule and no failover rule applies)</dd>"
            "</dl>",
            url=obj.url,
            method=obj.method,
            template=template,
            example=example,
            header=header,
        )

    @admin.display(description="Setup checklist")
    def setup_checklist(self, obj):
        if not obj.pk:
            return "—"
        problems = validation.setup_problems(obj)
        if not problems:
            return format_html('<span class="dp-ok">{}</span>', "Complete: every answer can be built.")
        return format_html(
            '<ul class="dp-problems">{}</ul>', format_html_join("", "<li>{}</li>", ((p,) for p in problems))
        )

    @admin.display(description="Recent requests")
    def recent_requests(self, obj):
        if not obj.pk:
            return "—"
        rows = selectors.recent_requests(obj, 25)
        if not rows:
            return "No requests yet."
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{} ms</td></tr>",
            (
                (
                    r.received_at.strftime("%Y-%m-%d %H:%M:%S"),
                    r.caller or "—",
                    r.last_dtmf or "",
                    r.get_outcome_display() + (f" ({r.status_code})" if r.status_code != 200 else ""),
                    r.rule_name or "",
                    r.error or "",
                    r.answer_line,
                    r.latency_ms,
                )
                for r in rows
            ),
        )
        link = reverse("admin:dialplan_dialplanrequest_changelist") + f"?dialplan__id__exact={obj.pk}"
        return format_html(
            '<table class="dp-log"><thead><tr><th>At (UTC)</th><th>Caller</th><th>DTMF</th><th>Outcome</th><th>Rule</th>'
            "<th>Error</th><th>Answer</th><th>Latency</th></tr></thead><tbody>{}</tbody></table>"
            '<p><a href="{}">All requests</a></p>',
            body,
            link,
        )

    # ------------------------------------------------------------ extra pages

    def get_urls(self):
        extra = [
            path("<int:pk>/simulate/", self.admin_site.admin_view(self.simulate_view), name="dialplan_dialplan_simulate"),
            path(
                "template/<slug:kind>/",
                self.admin_site.admin_view(require_POST(self.template_view)),
                name="dialplan_dialplan_template",
            ),
        ]
        return extra + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "dialplan_templates": services.TEMPLATES.items()}
        return super().changelist_view(request, extra_context)

    def template_view(self, request, kind):
        if not self.has_add_permission(request):
            return redirect("admin:dialplan_dialplan_changelist")
        try:
            plan = services.create_from_template(kind)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return redirect("admin:dialplan_dialplan_changelist")
        self.message_user(
            request,
            f"Created “{plan.name}” (switched off). Fill in the Smartflo ids in the checklist, then switch it on.",
            messages.SUCCESS,
        )
        return redirect("admin:dialplan_dialplan_change", plan.pk)

    def simulate_view(self, request, pk):
        start = get_object_or_404(Dialplan, pk=pk)
        if not self.has_view_permission(request, start):
            return redirect("admin:index")
        data = request.POST if request.method == "POST" else {}
        caller = data.get("caller", "").strip()
        called = data.get("called", "").strip() or (start.number_list[0] if start.number_list else "")
        call_uuid = data.get("uuid") or uuid.uuid4().hex[:12]
        try:
            history = json.loads(data.get("history") or "[]")
        except ValueError:
            history = []
        current, finished, error = start, False, ""
        if request.method == "POST":
            if data.get("restart"):
                history = []
            current = get_object_or_404(Dialplan, pk=data.get("current") or start.pk)
            if len(history) >= MAX_SIMULATED_STEPS:
                error = f"Smartflo nests at most {MAX_SIMULATED_STEPS} API dialplans; it refuses a fourth."
            elif not caller:
                error = "Enter the caller's number."
            else:
                step = services.simulate(current, caller=caller, called=called, last_dtmf=data.get("dtmf", ""), uuid=call_uuid)
                history.append(
                    {
                        "dialplan": step.dialplan.name,
                        "dtmf": step.request.last_dtmf,
                        "outcome": dict(DialplanRequest.Outcome.choices).get(step.decision.outcome, step.decision.outcome),
                        "rule": step.decision.rule_name,
                        "description": step.description,
                        "trace": step.decision.trace,
                        "body": step.body,
                        "error": step.decision.error,
                        "next_id": step.next_dialplan.pk if step.next_dialplan else None,
                        "next_name": step.next_dialplan.name if step.next_dialplan else "",
                        "collects_dtmf": step.collects_dtmf,
                    }
                )
        last = history[-1] if history else None
        if last and not last["next_id"]:
            finished = True
        if last and last["next_id"] and len(history) >= MAX_SIMULATED_STEPS:
            error = f"Smartflo nests at most {MAX_SIMULATED_STEPS} API dialplans; it refuses a fourth."
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Simulate a call to {start.name}",
            "original": start,
            "start": start,
            "caller": caller,
            "called": called,
            "uuid": call_uuid,
            "history": history,
            "history_json": json.dumps(history),
            "last": last,
            "finished": finished,
            "error": error,
        }
        return TemplateResponse(request, "admin/dialplan/simulate.html", context)


@admin.register(Recording)
class RecordingAdmin(admin.ModelAdmin):
    list_display = ["name", "smartflo_id", "is_moh"]
    list_filter = ["is_moh"]
    search_fields = ["name", "smartflo_id"]


class WindowInline(admin.TabularInline):
    model = ScheduleWindow
    extra = 0


class HolidayInline(admin.TabularInline):
    model = Holiday
    extra = 0


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ["name", "time_zone"]
    inlines = [WindowInline, HolidayInline]


class PrefixInline(admin.TabularInline):
    model = RegionPrefix
    extra = 0


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["name", "agent_names"]
    search_fields = ["name"]
    filter_horizontal = ["agents"]
    inlines = [PrefixInline]

    @admin.display(description="agents")
    def agent_names(self, obj):
        return ", ".join(str(a) for a in obj.agents.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("agents")


@admin.register(MaskedPair)
class MaskedPairAdmin(admin.ModelAdmin):
    list_display = ["customer_number", "agent_number", "reference", "did", "expires_at", "created_at"]
    search_fields = ["customer_number", "agent_number", "reference"]
    date_hierarchy = "expires_at"


@admin.register(DialplanRequest)
class DialplanRequestAdmin(admin.ModelAdmin):
    list_display = ["received_at", "dialplan", "caller", "called", "last_dtmf", "outcome", "rule_name", "status_code", "latency_ms"]
    list_filter = ["outcome", "status_code", "dialplan"]
    search_fields = ["caller", "called", "call_uuid", "call_id"]
    date_hierarchy = "received_at"
    list_select_related = ["dialplan"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
