"""The access matrix: every URL pattern × anonymous / an agent of another team / a supervisor / an admin.

Every route has one row in ROUTES below: how to call it and the status each of the four gets. The
objects the routes are called on all belong to the Sales team (a Sales conversation, a contact owned
by a Sales agent, his private canned reply…) and carry the marker SALES-ONLY; the Support agent
("other") must never get a page or API answer containing it, whatever the status. Nobody but an admin
is ever shown a credential (the channel's webhook token and API token, an API key's hash).

Adding a route? Add its row here (the test names the missing ones). A row reads:

    "namespace:url_name": Row("GET", "anon other supervisor admin", pk="object"),

with the statuses as numbers (302 for anonymous is a redirect to the login page) and `pk=` / other
URL arguments naming an object of the world (see World); `query=` adds a query string ({name} is
that object's pk). "name#case" adds another row for the same route (another object). Routes under Django admin are covered by one
rule (admins only; Django's admin checks it) and sampled: the index and every model's list and add page.
"""

import dataclasses
import re

import pytest
import responses
from django.core.files.base import ContentFile
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from accounts import api_keys
from campaigns.models import Campaign
from contacts.models import ImportJob, Note
from imports.models import ImportJob as HistoryImportJob
from inbox.models import Attachment, CannedResponse, Message, RichSnippet, Template
from sandbox import smartflo
from sandbox.models import SandboxCall, SandboxMedia
from telephony.models import AutomatedCall, Call, CallCampaign, CallImport, CallNote, TelephonyConnection
from tests.dialplan.factories import DialplanFactory
from tests.factories import ContactFactory, ContactPhoneFactory, LabelFactory
from tests.inbox.tata_payloads import make_channel
from tests.inbox.ui_helpers import message_in

MARKER = "SALES-ONLY"
ROLES = ("anon", "other", "supervisor", "admin")


@dataclasses.dataclass(frozen=True)
class Row:
    method: str
    expect: str  # "anon other supervisor admin"
    data: dict | None = None
    args: dict = dataclasses.field(default_factory=dict)  # URL argument → World attribute (its pk) or a literal

    def __init__(self, method, expect, data=None, **args):
        object.__setattr__(self, "method", method)
        object.__setattr__(self, "expect", expect)
        object.__setattr__(self, "data", data)
        object.__setattr__(self, "args", args)


# fmt: off
ROUTES = {
    # ------------------------------------------------------------ pages around sign-in
    "home":                          Row("GET",  "302 302 302 302"),
    "healthz":                       Row("GET",  "200 200 200 200"),
    "favicon.ico":                   Row("GET",  "301 301 301 301"),  # unnamed: to the static icon
    "login":                         Row("GET",  "200 302 302 302"),
    "logout":                        Row("POST", "302 302 302 302"),
    "accounts:api_keys":             Row("GET",  "302 200 200 200"),
    "accounts:revoke_api_key":       Row("POST", "302 404 404 404", pk="api_key"),  # only the key's owner
    # ------------------------------------------------------------ contacts
    "contacts:list":                 Row("GET",  "302 200 200 200"),
    "contacts:create":               Row("GET",  "302 200 200 200"),
    "contacts:export":               Row("GET",  "302 403 200 200"),
    "contacts:import":               Row("GET",  "302 403 200 200"),
    "contacts:import_mapping":       Row("GET",  "302 403 200 200", pk="import_job"),
    "contacts:import_progress":      Row("GET",  "302 403 200 200", pk="import_job"),
    "contacts:detail":               Row("GET",  "302 404 200 200", pk="contact"),
    # An unowned customer anyone may open, whose conversation is Sales': the page must not show it.
    "contacts:detail#unowned":       Row("GET",  "302 200 200 200", pk="unowned_contact"),
    "contacts:edit":                 Row("GET",  "302 404 200 200", pk="contact"),
    "contacts:delete":               Row("POST", "302 403 403 302", pk="contact"),  # admins only, asked first
    "contacts:note_add":             Row("POST", "302 404 302 302", {"body": "hi"}, pk="contact"),
    "contacts:label_toggle":         Row("POST", "302 404 302 302", {"label": "label"}, pk="contact"),
    "contacts:merge":                Row("GET",  "302 403 200 200", pk="contact"),
    # ------------------------------------------------------------ inbox
    "inbox:index":                   Row("GET",  "302 200 200 200"),
    "inbox:list":                    Row("GET",  "302 200 200 200"),
    "inbox:rows":                    Row("GET",  "302 200 200 200"),
    "inbox:catch_up":                Row("GET",  "302 200 200 200", query="since=2000-01-01T00:00:00Z"),
    "inbox:message":                 Row("GET",  "302 404 200 200", pk="message"),
    "inbox:attachment":              Row("GET",  "302 404 200 200", pk="attachment"),
    "inbox:attachment_retry":        Row("POST", "302 404 302 302", pk="attachment"),
    "inbox:conversation":            Row("GET",  "302 404 200 200", pk="conversation"),
    "inbox:thread":                  Row("GET",  "302 404 200 200", pk="conversation"),
    "inbox:older":                   Row("GET",  "302 404 200 200", pk="conversation", query="before=1"),
    "inbox:header":                  Row("GET",  "302 404 200 200", pk="conversation"),
    "inbox:panel":                   Row("GET",  "302 404 200 200", pk="conversation"),
    "inbox:assign":                  Row("POST", "302 404 302 302", {"assignee": "me"}, pk="conversation"),
    "inbox:team":                    Row("POST", "302 404 302 302", {"team": ""}, pk="conversation"),
    "inbox:status":                  Row("POST", "302 404 302 302", {"status": "pending"}, pk="conversation"),
    "inbox:label":                   Row("POST", "302 404 302 302", pk="conversation", label_pk="label"),
    "inbox:note":                    Row("POST", "302 404 302 302", {"body": "note"}, pk="conversation"),
    "inbox:read":                    Row("POST", "302 404 204 204", pk="conversation"),
    "inbox:counts":                  Row("GET",  "302 200 200 200"),
    # All or nothing: a conversation the caller may not see (or a gone one: same answer) refuses the batch.
    "inbox:bulk":                    Row("POST", "302 403 302 302", {"ids": "conversation", "action": "status", "status": "pending"}),
    # ------------------------------------------------------------ replying, templates, canned replies
    "outbound:composer":             Row("GET",  "302 404 200 200", pk="conversation"),
    "outbound:send":                 Row("POST", "302 404 422 422", pk="conversation"),  # nothing to send
    "outbound:retry":                Row("POST", "302 404 200 200", pk="failed_message"),
    "outbound:canned_search":        Row("GET",  "302 200 200 200", query="q=sec"),
    "outbound:canned":               Row("GET",  "302 200 200 200"),
    # A Sales agent's private reply, by id: nobody else reads it, not even an admin (shared ones are theirs).
    "outbound:canned#edit-theirs":   Row("GET",  "302 404 404 404", query="edit={canned}"),
    "outbound:canned#save-theirs":   Row("POST", "302 404 404 404", {"pk": "canned", "shortcut": "x", "body": "y"}),
    "outbound:template_fields":      Row("GET",  "302 404 200 200", query="template={template}&conversation={conversation}"),
    "outbound:templates":            Row("GET",  "302 200 200 200"),
    "outbound:template_create":      Row("GET",  "302 403 403 200"),
    "outbound:template_sync":        Row("POST", "302 403 403 302", channel_pk="channel"),
    "outbound:template_insights":    Row("GET",  "302 200 200 200", pk="template"),
    "outbound:start":                Row("GET",  "302 404 200 200", contact_pk="contact"),
    "outbound:contact_opt":          Row("POST", "302 404 302 302", {"channel": "channel", "action": "optin"}, contact_pk="contact"),
    "outbound:bulk_opt":             Row("GET",  "302 403 200 200"),
    # ------------------------------------------------------------ campaigns (supervisors and admins)
    # ------------------------------------------------------------ the rich RCS composer (inbox.rich)
    "rich:send":                     Row("POST", "302 404 422 422", pk="conversation"),  # a WhatsApp thread, no spec
    "rich:check":                    Row("POST", "302 422 422 422"),
    "rich:snippets":                 Row("GET",  "302 200 200 200"),
    "rich:snippet_delete":           Row("POST", "302 404 404 404", pk="rich_snippet"),  # a Sales agent's own
    "rich:media_upload":             Row("POST", "302 422 422 422"),  # no file
    "rich_media:media_file":         Row("GET",  "404 404 404 404", token="no-such-token"),  # public to Tata; the token is the secret
    "campaigns:list":                Row("GET",  "302 403 200 200"),
    "campaigns:create":              Row("GET",  "302 403 200 200"),
    "campaigns:detail":              Row("GET",  "302 403 200 200", pk="campaign"),
    "campaigns:progress":            Row("GET",  "302 403 200 200", pk="campaign"),
    "campaigns:cancel":              Row("POST", "302 403 302 302", pk="campaign"),
    # ------------------------------------------------------------ provider-facing: a token, not a session
    "webhooks:tata":                 Row("POST", "403 403 403 403", token="webhook_token"),  # unsigned: refused
    "dialplan:answer":               Row("GET",  "404 404 404 404", token="no-such-token"),
    # ------------------------------------------------------------ the sandbox (admins play the customer)
    "sandbox:customer":              Row("GET",  "302 403 403 200"),
    "sandbox:send":                  Row("POST", "302 403 403 400"),
    "sandbox:typing":                Row("POST", "302 403 403 400"),
    # The fake Tata API authenticates by the channel's access token, never by a session: 401 for all.
    "sandbox:wa_messages":           Row("POST", "401 401 401 401"),
    "sandbox:media_upload":          Row("POST", "401 401 401 401"),
    "sandbox:media_handle":          Row("POST", "401 401 401 401"),
    "sandbox:media_download":        Row("GET",  "401 401 401 401", media_id="sandbox_media_id"),
    "sandbox:media_delete":          Row("DELETE", "401 401 401 401", media_id="sandbox_media_id"),
    "sandbox:templates":             Row("GET",  "401 401 401 401"),
    "sandbox:template_insights":     Row("GET",  "401 401 401 401"),
    "sandbox:insights_optin":        Row("POST", "401 401 401 401"),
    "sandbox:optin_optout":          Row("POST", "401 401 401 401"),
    "sandbox:rcs_messages":          Row("POST", "401 401 401 401"),
    "sandbox:file":                  Row("GET",  "403 403 403 403", token="expired-link"),
    # The pretend Smartflo: its API authenticates by the connection's token, its recording links by theirs.
    "sandbox:smartflo_login":        Row("POST", "401 401 401 401"),  # no email and password: refused
    "sandbox:smartflo_my_number":    Row("GET",  "401 401 401 401"),
    "sandbox:smartflo_users":        Row("GET",  "401 401 401 401"),
    "sandbox:smartflo_call_records": Row("GET",  "401 401 401 401"),
    "sandbox:smartflo_recording":    Row("GET",  "403 403 403 403", token="expired-link"),
    "sandbox:smartflo_recording#valid": Row("GET", "200 200 200 200", token="sandbox_recording_token"),
    # Its phone page (ring a DID, answer as an agent): admins only, like the customer's side.
    "sandbox:smartflo_phone":        Row("GET",  "302 403 403 200"),
    "sandbox:smartflo_call":         Row("GET",  "302 403 403 200", pk="sandbox_call"),
    "sandbox:smartflo_handset":      Row("GET",  "302 403 403 200", pk="sandbox_call", side="agent"),
    "sandbox:smartflo_click_to_call": Row("POST", "401 401 401 401"),
    "sandbox:smartflo_live_calls":   Row("GET",  "401 401 401 401"),
    "sandbox:smartflo_call_options": Row("POST", "401 401 401 401"),
    "sandbox:smartflo_call_hangup":  Row("POST", "401 401 401 401"),
    "sandbox:smartflo_click_to_call_support": Row("POST", "422 422 422 422"),  # no body; the API key in it authenticates
    "sandbox:smartflo_heard":        Row("GET",  "302 403 403 404", pk="sandbox_call"),  # nothing streamed in this process
    # ------------------------------------------------------------ telephony: calls (who may see the call)
    "telephony:status":              Row("POST", "200 200 200 200", token="status_token"),  # the token authenticates
    "telephony:status#unknown":      Row("POST", "404 404 404 404", token="no-such-token"),
    "telephony:voice":               Row("GET",  "200 200 200 200", token="status_token", telephony_id="1"),  # the token authenticates
    "telephony:voice#unknown":       Row("GET",  "404 404 404 404", token="no-such-token", telephony_id="1"),
    "telephony:calls":               Row("GET",  "302 200 200 200"),
    "telephony:export":              Row("GET",  "302 200 200 200"),
    "telephony:call":                Row("GET",  "302 404 200 200", pk="call"),
    "telephony:recording":           Row("GET",  "302 404 200 200", pk="call"),
    "telephony:recording_retry":     Row("POST", "302 404 302 302", pk="call"),
    "telephony:note_add":            Row("POST", "302 404 302 302", {"body": "called back"}, pk="call"),
    "telephony:whatsapp":            Row("GET",  "302 404 302 302", pk="call"),
    "telephony:call_state":          Row("GET",  "302 404 200 200", pk="call"),
    "telephony:screen_pop":          Row("GET",  "302 404 200 200", pk="call"),
    "telephony:call_action":         Row("POST", "302 404 302 302", {"action": "hangup"}, pk="call"),
    "telephony:click_to_call":       Row("POST", "302 302 302 302"),  # nothing to call: said on the page
    "telephony:watch":               Row("POST", "302 200 200 200"),
    "telephony:me":                  Row("GET",  "302 200 200 200"),
    # ------------------------------------------------------------ telephony: live calls (supervisors and admins)
    "telephony:live":                Row("GET",  "302 403 200 200"),
    "telephony:live_rows":           Row("GET",  "302 403 200 200"),
    # ------------------------------------------------------------ telephony: automated calls (supervisors and admins)
    "telephony:automated":           Row("GET",  "302 403 200 200"),
    "telephony:automated_new":       Row("GET",  "302 403 200 200"),
    "telephony:automated_detail":    Row("GET",  "302 403 200 200", pk="call_campaign"),
    "telephony:automated_progress":  Row("GET",  "302 403 200 200", pk="call_campaign"),
    "telephony:automated_cancel":    Row("POST", "302 403 302 302", pk="call_campaign"),
    # ------------------------------------------------------------ telephony: connections and imports (admins)
    "telephony:connections":         Row("GET",  "302 403 403 200"),
    "telephony:connection_new":      Row("GET",  "302 403 403 200"),
    "telephony:setup":               Row("GET",  "302 403 403 200", pk="telephony_connection"),
    "telephony:test":                Row("POST", "302 403 403 302", pk="telephony_connection"),
    "telephony:import":              Row("GET",  "302 403 403 200", pk="telephony_connection"),
    "telephony:import_progress":     Row("GET",  "302 403 403 200", pk="call_import"),
    "telephony:import_resume":       Row("POST", "302 403 403 302", pk="call_import"),
    "telephony:agents":              Row("GET",  "302 403 403 200", pk="telephony_connection"),
    # ------------------------------------------------------------ history import (supervisors and admins; a job: its creator or an admin)
    "imports:upload":                Row("GET",  "302 403 200 200"),
    "imports:questions":             Row("GET",  "302 403 200 200", pk="history_job"),
    "imports:job":                   Row("GET",  "302 403 200 200", pk="history_job"),
    "imports:failures":              Row("GET",  "302 403 200 200", pk="history_job"),
    "imports:cancel":                Row("POST", "302 403 302 302", pk="history_job"),
    # ------------------------------------------------------------ REST API (Bearer key or session)
    "api-root":                      Row("GET",  "401 200 200 200"),
    "contact-list":                  Row("GET",  "401 200 200 200"),
    "contact-detail":                Row("GET",  "401 404 200 200", pk="contact"),
    "contact-merge":                 Row("POST", "401 403 400 400", pk="contact"),  # no duplicate given: 400
    "contact-notes":                 Row("GET",  "401 404 200 200", pk="contact"),
    "label-list":                    Row("GET",  "401 200 200 200"),
    "channel-list":                  Row("GET",  "401 200 200 200"),
    "channel-detail":                Row("PATCH", "401 403 403 200", {"name": "Renamed"}, pk="channel"),
    "conversation-list":             Row("GET",  "401 200 200 200"),
    "conversation-detail":           Row("GET",  "401 404 200 200", pk="conversation"),
    "conversation-messages":         Row("GET",  "401 404 200 200", pk="conversation"),
    # v2 telephony connections: admins only (a connection holds the account's credentials)
    "telephony-connections":         Row("GET",  "401 403 403 200"),
    "telephony-connection":          Row("GET",  "401 403 403 200", pk="telephony_connection"),
    "v2/telephony/connections/<uuid:pk>/": Row("GET", "401 403 403 200", pk="telephony_connection"),
    "telephony-connection-default":  Row("POST", "401 403 403 200", pk="telephony_connection"),
    "v2/telephony/connections/<uuid:pk>/default/": Row("POST", "401 403 403 200", pk="telephony_connection"),
    # The API's description is public (it holds no data; every endpoint it lists checks its caller).
    "schema":                        Row("GET",  "200 200 200 200"),
    "swagger-ui":                    Row("GET",  "200 200 200 200"),
}
# fmt: on

ADMIN_EXPECT = "302 302 302 200"  # anonymous and non-admins go to the admin's login page


# ---------------------------------------------------------------- the world the routes are called on


class World:
    """Sales' objects (seen by Sales, supervisors and admins; never by the Support agent)."""

    def __init__(self, agent, other_agent, supervisor, admin_user, sales_team, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        self.users = {"other": other_agent, "supervisor": supervisor, "admin": admin_user}
        self.channel = make_channel(team=sales_team, partner_token="")
        self.webhook_token = self.channel.webhook_token
        self.contact = ContactFactory(name=f"Meera {MARKER}", owner=agent)
        ContactPhoneFactory(contact=self.contact)
        from inbox.models import Conversation

        self.conversation = Conversation.objects.create(channel=self.channel, contact=self.contact, team=sales_team, last_message_at=timezone.now())
        self.unowned_contact = ContactFactory(name="Walk-in customer")
        ContactPhoneFactory(contact=self.unowned_contact)
        walk_in = Conversation.objects.create(channel=self.channel, contact=self.unowned_contact, team=sales_team, last_message_at=timezone.now())
        message_in(walk_in, f"{MARKER} walk-in asks")
        message_in(walk_in, f"{MARKER} walk-in note", direction=Message.Direction.NOTE)
        self.message = message_in(self.conversation, f"{MARKER} order 4521")
        message_in(self.conversation, f"{MARKER} private note", direction=Message.Direction.NOTE)
        self.failed_message = message_in(self.conversation, "reply", direction=Message.Direction.OUTBOUND, status=Message.Status.FAILED)
        image = message_in(self.conversation, "", type="image")
        attachment = Attachment(message=image, kind="image", status="ready", mime_type="image/png")
        attachment.file.save("p.png", ContentFile(b"\x89PNG\r\n\x1a\n" + MARKER.encode()), save=True)
        self.attachment = attachment
        Note.objects.create(contact=self.contact, author=agent, body=f"{MARKER} contact note")
        self.label = LabelFactory(name="vip")
        self.canned = CannedResponse.objects.create(shortcut="secret", body=f"{MARKER} canned", owner=agent)
        self.rich_snippet = RichSnippet.objects.create(name=f"{MARKER} snippet", spec={"kind": "text", "text": MARKER}, owner=agent)
        self.template = Template.objects.create(channel=self.channel, name="order_update", language="en", status="APPROVED")
        self.campaign = Campaign.objects.create(name=f"{MARKER} campaign", channel=self.channel, template=self.template, created_by=supervisor)
        self.import_job = ImportJob.objects.create(created_by=supervisor, file_name="c.csv", content="name\nX\n")
        self.api_key = api_keys.create(agent, name=f"{MARKER} key")[0]
        self.sandbox_media_id = SandboxMedia.objects.create(channel=self.channel, mime_type="image/png", file_name="x.png", file="x.png").media_id
        DialplanFactory()
        # Telephony: a Sales customer's call (with a recording and a note), an account, an import, and
        # a call on the pretend Smartflo.
        self.telephony_connection = TelephonyConnection.objects.create(
            provider="tata_smartflo", name=f"{MARKER} Smartflo", team=sales_team, auth_token="smartflo-auth-token-secret",
            base_url="http://127.0.0.1:8000" + smartflo.SMARTFLO_PATH, phone_numbers=["+918069000000"],
        )
        self.status_token = self.telephony_connection.status_token
        self.call = Call.objects.create(
            connection=self.telephony_connection, provider_call_id="c-1", status="answered", contact=self.contact,
            agent=agent, agent_name=f"{MARKER} agent", customer_number="+919812345678", did_number="+918069000000",
            started_at=timezone.now(), recording_url="https://recordings.smartflo.test/c-1.wav",
            recording_status=Call.Recording.READY, recording_mime="audio/wav",
        )
        self.call.recording.save("c-1.wav", ContentFile(b"RIFF\x24\x00\x00\x00WAVE" + MARKER.encode()), save=True)
        CallNote.objects.create(call=self.call, author=agent, body=f"{MARKER} call note")
        self.call_import = CallImport.objects.create(
            connection=self.telephony_connection, from_date=timezone.now(), to_date=timezone.now(), status=CallImport.Status.FAILED,
            error=f"{MARKER} import error", created_by=admin_user,
        )
        self.history_job = HistoryImportJob.objects.create(
            created_by=supervisor, file_name=f"{MARKER} chat.txt", scan={"senders": [["Shop", 1], ["+919812345678", 1]], "lines": 2},
        )
        self.sandbox_call = SandboxCall.objects.create(
            connection=self.telephony_connection, call_id="sb-1", uuid="sb-uuid-1", customer_number="+919812345678",
            did_number="+918069000000", started_at=timezone.now(), has_recording=True,
        )
        self.sandbox_recording_token = smartflo.recording_token(self.sandbox_call)
        self.call_campaign = CallCampaign.objects.create(name=f"{MARKER} COD", connection=self.telephony_connection, created_by=supervisor)
        AutomatedCall.objects.create(campaign=self.call_campaign, contact=self.contact, number="+919812345678", call=self.call)

    def credentials(self) -> list[str]:
        return [self.webhook_token, "test-access-token", self.api_key.key_hash, self.status_token, "smartflo-auth-token-secret"]

    def value(self, name: str):
        found = getattr(self, name, None)
        if found is None:
            return name  # a literal (a token that matches nothing)
        return found.pk if hasattr(found, "pk") else found


@pytest.fixture
def world(agent, other_agent, supervisor, admin_user, sales_team, settings, tmp_path):
    settings.SANDBOX_ENABLED = True
    with responses.RequestsMock(assert_all_requests_are_fired=False):  # no provider is reachable: any call fails fast
        yield World(agent, other_agent, supervisor, admin_user, sales_team, settings, tmp_path)


# ---------------------------------------------------------------- the routes, from the URL patterns


def _walk(patterns, namespace=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, inner)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}{pattern.name or pattern.pattern}"  # unnamed: its pattern (admin's catch-alls)


def all_route_names() -> set[str]:
    return set(_walk(get_resolver().url_patterns))


def _unnamed_routes(patterns, prefix=""):
    """Unnamed pattern (its name in ROUTES) → its whole route, e.g. "/api/v2/telephony/connections/<uuid:pk>/"."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _unnamed_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and not pattern.name:
            yield str(pattern.pattern), "/" + prefix + str(pattern.pattern)


def _url(name: str, args: dict) -> str:
    try:
        return reverse(name, kwargs=args or None)
    except NoReverseMatch:
        route = dict(_unnamed_routes(get_resolver().url_patterns))[name]
        return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(args[m.group(1)]), route)


def test_every_route_has_a_row():
    names = {name for name in all_route_names() if not name.startswith("admin:")}
    rows = {name.split("#")[0] for name in ROUTES}  # "name#case": a second row for the same route
    missing, stale = sorted(names - rows), sorted(rows - names)
    assert not missing, f"add a row to ROUTES in {__file__} for: {missing}"
    assert not stale, f"these rows name no route any more: {stale}"


def _client(world, role, api: bool):
    from django.test import Client
    from rest_framework.test import APIClient

    client = APIClient() if api else Client()
    if role != "anon":
        client.force_login(world.users[role])
    return client


def _call(world, name: str, row: Row, role: str):
    args = {key: world.value(value) for key, value in row.args.items() if key != "query"}
    url = _url(name.split("#")[0], args)
    if "query" in row.args:  # {name}: the pk of the world's object
        url += "?" + re.sub(r"\{(\w+)\}", lambda m: str(world.value(m.group(1))), row.args["query"])
    api = name.startswith(("contact-", "label-", "channel-", "conversation-", "telephony-", "v2/", "api-root", "schema", "swagger"))
    client = _client(world, role, api)
    data = {k: world.value(v) if isinstance(v, str) and hasattr(world, v) else v for k, v in (row.data or {}).items()}
    method = getattr(client, row.method.lower())
    if api and row.method != "GET":
        return method(url, data, format="json")
    return method(url, data) if data or row.method != "GET" else method(url)


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_route_answers_each_role_as_written(world, name):
    row = ROUTES[name]
    answers = {}
    for role in ROLES:
        response = _call(world, name, row, role)
        answers[role] = response.status_code
        if role == "anon" and response.status_code == 302:
            assert "/login/" in response["Location"], f"{name}: anonymous redirected elsewhere: {response['Location']}"
        body = b"".join(response.streaming_content) if response.streaming else response.content
        if role == "other":
            assert MARKER.encode() not in body, f"{name}: the Support agent got Sales' data"
        if role != "admin":  # credentials: the webhook URL's token, the channel's API token, a key's hash
            for secret in world.credentials():
                assert secret.encode() not in body, f"{name}: {role} was shown a credential"
    expected = dict(zip(ROLES, (int(code) for code in row.expect.split())))
    assert answers == expected, f"{name}: got {' '.join(str(answers[r]) for r in ROLES)}, table says {row.expect}"


def test_admin_routes_are_for_admins_only(world):
    names = sorted(name for name in all_route_names() if re.fullmatch(r"admin:(index|\w+_changelist|\w+_add)", name))
    assert len(names) > 10
    expected = dict(zip(ROLES, (int(code) for code in ADMIN_EXPECT.split())))
    for name in names:
        answers = {role: _call(world, name, Row("GET", ADMIN_EXPECT), role).status_code for role in ROLES}
        if name.endswith("_add") and answers["admin"] == 403:  # models without an add page (e.g. API keys)
            answers["admin"] = 200
        assert answers == expected, f"{name}: {answers}"
