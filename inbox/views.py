"""The inbox screen: three panes (conversation list, thread, contact panel) served as htmx partials.

Views are thin: selectors decide what the agent sees, services change things. Live updates come over
the websocket as small events; static/js/inbox.js then refetches the partials below.
"""

import datetime

from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Team
from accounts.selectors import assignable_users, can_play_customer
from contacts.models import Label
from contacts.selectors import visible_contacts
from core.errors import ApplicationError
from core.pagination import page_of
from inbox import selectors, services
from inbox.forms import AssignForm, BulkForm, ListFilterForm, NoteForm, StatusForm, TeamForm
from inbox.models import Conversation, Message

PAGE_SIZE = 30
THREAD_PAGE = 40


# ---------------------------------------------------------------- reading


def _page_of(conversations, *, start: int, size: int, query: str = "") -> tuple[list, bool]:
    """A page of the list with what its rows show; no COUNT(*) over every visible conversation,
    which "Load more" does not need. Search results also show the message text that matched."""
    rows, has_more = page_of(conversations, start=start, size=size)
    rows = selectors.with_row_details(rows)
    if query:
        rows = selectors.with_search_snippets(rows, query)
    return rows, has_more


def _int_param(request, name: str, default: int, *, low: int, high: int) -> int:
    try:
        return max(low, min(int(request.GET.get(name, default)), high))
    except ValueError:
        return default


REMEMBERED_FILTERS = "inbox_filters"  # the session key


def _filter_form(request, *, page: bool) -> ListFilterForm:
    """The list's filters as the request gives them, remembered for the next visit. A page opened
    without any (the Inbox link, a bookmark) shows the ones this user chose last, else Mine / Open."""
    if not any(name in request.GET for name in ListFilterForm.FIELDS):
        if page:
            return ListFilterForm(request.session.get(REMEMBERED_FILTERS) or selectors.DEFAULT_FILTERS)
        return ListFilterForm(request.GET)
    form = ListFilterForm(request.GET)
    filters = form.filters()
    if any(name in request.GET for name in ("view", "status", "channel", "label")):
        chosen = {"view": filters["view"], "status": filters["status"], "channel": filters["channel_id"], "label": filters["label_id"]}
        if request.session.get(REMEMBERED_FILTERS) != chosen:
            request.session[REMEMBERED_FILTERS] = chosen
    return form


def _list_context(request, *, rows: bool = True, page: bool = False) -> dict:
    """The list pane: filters, and (unless `rows` is False) the first `pages` pages of rows. A whole
    page also shows the tab counts; the list's partials leave them to inbox.js (see `counts`)."""
    form = _filter_form(request, page=page)
    filters = form.filters()
    pages = _int_param(request, "pages", 1, low=1, high=20)
    context = {"filter_form": form, "filters": filters, "pages": pages, "filter_query": form.query_string()}
    if rows:
        conversations = selectors.conversation_list(request.user, **filters)
        context["conversations"], context["has_more"] = _page_of(
            conversations, start=0, size=PAGE_SIZE * pages, query=filters["query"]
        )
    counts = selectors.open_counts(request.user) if page else {}
    context["counts"] = counts
    context["tabs"] = [(value, label, counts.get(value)) for value, label in form.fields["view"].choices]
    return context


def _visible_conversation(request, pk) -> Conversation:
    queryset = selectors.visible_conversations(request.user).select_related("contact", "channel", "assignee", "team")
    return get_object_or_404(queryset, pk=pk)


def _thread_context(request, conversation: Conversation, *, before_id=None) -> dict:
    # Not "messages": base.html shows Django's messages framework under that name.
    thread, has_older = selectors.thread_messages(conversation, before_id=before_id, limit=THREAD_PAGE)
    return {
        "conversation": conversation,
        "thread_messages": [m for m in thread if m.type != "reaction"],
        "has_older": has_older,
        "oldest_id": thread[0].pk if thread else None,
    }


def _panel_context(request, conversation: Conversation) -> dict:
    contact = conversation.contact
    others = (
        selectors.visible_conversations(request.user)
        .filter(contact=contact)
        .exclude(pk=conversation.pk)
        .select_related("channel")
    )
    return {
        "contact": contact,
        "contact_visible": visible_contacts(request.user).filter(pk=contact.pk).exists(),
        "all_labels": Label.objects.all(),
        "conversation_labels": set(conversation.labels.values_list("pk", flat=True)),
        "other_conversations": others,
    }


def _header_context(request, conversation: Conversation, error: str = "") -> dict:
    return {
        "conversation": conversation,
        "assign_form": AssignForm(user=request.user, initial={"assignee": conversation.assignee_id}),
        "team_form": TeamForm(initial={"team": conversation.team_id}),
        "status_form": StatusForm(initial={"status": conversation.status}),
        "teams": Team.objects.all(),
        "action_error": error,
    }


def _full_context(request, conversation: Conversation | None) -> dict:
    context = _list_context(request, page=True)
    context["bulk"] = _bulk_choices(request)
    context["open_conversation"] = conversation
    if conversation is not None:
        context.update(_thread_context(request, conversation))
        context.update(_panel_context(request, conversation))
        context.update(_header_context(request, conversation))
        context["note_form"] = NoteForm()
    else:  # the empty state says how a first message arrives
        context["has_any_conversation"] = bool(context["conversations"]) or selectors.visible_conversations(request.user).exists()
        context["can_play_customer"] = can_play_customer(request.user)
    return context


@require_GET
def index(request):
    return render(request, "inbox/index.html", _full_context(request, None))


@require_GET
def conversation_page(request, pk):
    conversation = _visible_conversation(request, pk)
    return render(request, "inbox/index.html", _full_context(request, conversation))


@require_GET
def conversation_list(request):
    return render(request, "inbox/index.html#conversation_list", _list_context(request))


@require_GET
def conversation_rows(request):
    """The next page of rows ("Load more")."""
    context = _list_context(request, rows=False)
    number = _int_param(request, "page", 2, low=1, high=10_000)
    filters = context["filters"]
    conversations = selectors.conversation_list(request.user, **filters)
    rows, has_more = _page_of(conversations, start=(number - 1) * PAGE_SIZE, size=PAGE_SIZE, query=filters["query"])
    context.update(conversations=rows, has_more=has_more, next_page=number + 1, pages=number)
    return render(request, "inbox/index.html#rows", context)


@require_GET
def counts(request):
    """The tab counts and the unread total for the title (inbox.js refetches them after events)."""
    return JsonResponse(selectors.open_counts(request.user))


@require_GET
def thread(request, pk):
    """The thread pane and (out of band) the contact panel of one conversation. Reading changes nothing:
    the pane, once shown, posts to inbox:read itself."""
    conversation = _visible_conversation(request, pk)
    context = {**_thread_context(request, conversation), **_panel_context(request, conversation)}
    context.update(_header_context(request, conversation), note_form=NoteForm(), oob_panel=True)
    return render(request, "inbox/index.html#thread_pane", context)


@require_GET
def older_messages(request, pk):
    conversation = _visible_conversation(request, pk)
    try:
        before_id = int(request.GET.get("before", ""))
    except ValueError:
        return HttpResponse("“before” must be a message id.", status=400)
    return render(request, "inbox/index.html#message_chunk", _thread_context(request, conversation, before_id=before_id))


@require_GET
def header(request, pk):
    conversation = _visible_conversation(request, pk)
    return render(request, "inbox/index.html#thread_header", _header_context(request, conversation))


@require_GET
def panel(request, pk):
    conversation = _visible_conversation(request, pk)
    return render(request, "inbox/index.html#contact_panel", {"conversation": conversation, **_panel_context(request, conversation)})


@require_GET
def message_fragment(request, pk):
    """One bubble, for live inserts and tick updates. A reaction re-renders the message it reacts to."""
    visible = selectors.visible_conversations(request.user)
    message = get_object_or_404(Message.objects.filter(conversation__in=visible).select_related("conversation", "sender"), pk=pk)
    conversation = message.conversation
    if message.type == "reaction":  # shown on the message it reacts to (ingest keeps it there)
        if message.reply_to is None:
            return HttpResponse(status=204)
        message = message.reply_to
    previous = (
        Message.objects.filter(conversation=conversation, timestamp__lt=message.timestamp).order_by("-timestamp").values_list("timestamp", flat=True).first()
    )
    new_day = previous is None or timezone.localtime(previous).date() != timezone.localtime(message.timestamp).date()
    return render(request, "inbox/index.html#message", {"message": message, "conversation": conversation, "show_day": new_day})


@require_GET
def catch_up(request):
    """What changed since the browser's last event (?since=ISO time): it refetches those conversations."""
    since = parse_datetime(request.GET.get("since", ""))
    if since is None:
        return JsonResponse({"detail": "Pass ?since= as an ISO 8601 time."}, status=400)
    if timezone.is_naive(since):
        since = timezone.make_aware(since, datetime.timezone.utc)
    return JsonResponse({"now": timezone.now().isoformat(), "conversations": selectors.changed_since(request.user, since)})


# ---------------------------------------------------------------- acting


def _after_action(request, conversation: Conversation, error: str = ""):
    if request.htmx:
        conversation.refresh_from_db()
        return render(request, "inbox/index.html#thread_header", _header_context(request, conversation, error))
    return redirect("inbox:conversation", pk=conversation.pk)


def _act(request, conversation, action):
    try:
        action()
    except ApplicationError as exc:
        return _after_action(request, conversation, exc.message)
    return _after_action(request, conversation)


@require_POST
def assign(request, pk):
    conversation = _visible_conversation(request, pk)
    # "Assign to me" shares the select's field name; a browser may send the select's value after it.
    if "me" in request.POST.getlist("assignee"):
        return _act(request, conversation, lambda: services.assign_to_agent(conversation, request.user, by=request.user))
    form = AssignForm(request.POST, user=request.user)
    if not form.is_valid():
        return _after_action(request, conversation, "You cannot assign to that person.")
    return _act(request, conversation, lambda: services.assign_to_agent(conversation, form.cleaned_data["assignee"], by=request.user))


@require_POST
def assign_team(request, pk):
    conversation = _visible_conversation(request, pk)
    form = TeamForm(request.POST)
    if not form.is_valid():
        return _after_action(request, conversation, "Choose a team.")
    return _act(request, conversation, lambda: services.assign_to_team(conversation, form.cleaned_data["team"], by=request.user))


@require_POST
def set_status(request, pk):
    conversation = _visible_conversation(request, pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _after_action(request, conversation, " ".join(e for errors in form.errors.values() for e in errors))
    data = form.cleaned_data
    return _act(
        request,
        conversation,
        lambda: services.set_status(conversation, data["status"], snoozed_until=data["snoozed_until"], by=request.user),
    )


@require_POST
def toggle_label(request, pk, label_pk):
    conversation = _visible_conversation(request, pk)
    label = get_object_or_404(Label, pk=label_pk)
    on = not conversation.labels.filter(pk=label.pk).exists()
    services.set_label(conversation, label, on=on, by=request.user)
    if request.htmx:
        return render(request, "inbox/index.html#conversation_labels", {"conversation": conversation, **_panel_context(request, conversation)})
    return redirect("inbox:conversation", pk=conversation.pk)


@require_POST
def add_note(request, pk):
    conversation = _visible_conversation(request, pk)
    form = NoteForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            services.add_private_note(conversation, author=request.user, body=form.cleaned_data["body"])
            form = NoteForm()
        except ApplicationError as exc:
            error = exc.message
    if not request.htmx:
        return redirect("inbox:conversation", pk=conversation.pk)
    return render(request, "inbox/index.html#note_form", {"conversation": conversation, "note_form": form, "note_error": error})


def _bulk_choices(request) -> dict:
    return {
        "agents": assignable_users(request.user),
        "teams": Team.objects.all(),
        "labels": Label.objects.all(),
        "statuses": [(s, Conversation.Status(s).label) for s in services.BULK_STATUSES],
        "max": services.BULK_MAX,
        "confirm_over": BULK_CONFIRM_OVER,
    }


BULK_CONFIRM_OVER = 5  # the action bar asks before acting on more conversations than this


@require_POST
def bulk(request):
    """The list's action bar: one action on the chosen conversations, all or nothing (services)."""
    form = BulkForm(request.POST, user=request.user)
    if not form.is_valid():
        return _bulk_answer(request, " ".join(e for errors in form.errors.values() for e in errors), status=400)
    data = form.cleaned_data
    ids, by = data["ids"], request.user
    try:
        if data["action"] == "assign":
            done = services.bulk_assign_to_agent(ids, data["assignee"], by=by)
            what = f"assigned to {data['assignee']}" if data["assignee"] else "unassigned"
        elif data["action"] == "team":
            done = services.bulk_assign_to_team(ids, data["team"], by=by)
            what = f"moved to {data['team']}" if data["team"] else "moved to no team"
        elif data["action"] == "label":
            done = services.bulk_add_label(ids, data["label"], by=by)
            what = f"labelled {data['label']}"
        else:
            done = services.bulk_set_status(ids, data["status"], by=by)
            what = f"marked {Conversation.Status(data['status']).label.lower()}"
    except ApplicationError as exc:
        return _bulk_answer(request, exc.message, status=exc.http_status)
    return _bulk_answer(request, f"{done} conversation{'s' if done != 1 else ''} {what}.", status=200)


def _bulk_answer(request, text: str, *, status: int):
    if not request.htmx and status == 200:
        return redirect("inbox:index")
    response = render(request, "inbox/index.html#bulk_result", {"text": text, "failed": status != 200}, status=status)
    if status == 200:
        response["HX-Trigger"] = "inbox:bulk-done"  # inbox.js refetches the list and counts, clears the choice
    return response


@require_POST
def mark_read(request, pk):
    conversation = _visible_conversation(request, pk)
    services.mark_read(conversation, by=request.user)
    return HttpResponse(status=204)
