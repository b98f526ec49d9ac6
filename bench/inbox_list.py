"""The inbox list and a long thread at 100k conversations / 1M messages on PostgreSQL.

    .venv/bin/python bench/inbox_list.py            # DATABASE_URL defaults to .../sampark_listbench

Creates (once; later runs reuse it) a data set in a dedicated database: 100k conversations on three
numbers, three teams, a supervisor and twelve agents, realistic statuses, unread counts and labels,
and ~1M messages skewed like a real inbox (five threads of 10k-20k messages, most threads short).
Then renders the real views through Django's test client, logged in as an agent and as a supervisor:
the list page (with its tab counts) and partial for every filter, searches (search_cases), "Load more",
the full conversation page, the thread partial of a 20k-message thread and its "Load older" page, and
the API list endpoints.

Then the same reads over HTTP under load (wrk, BENCH_HTTP_SECONDS each, 8 connections, as the agent):
the inbox page, the list partial, the 20k thread partial and the API list, each on today's server
(one daphne process serving everything) and right after on the production shape (nginx → gunicorn, one
sync worker per core), side by side in the same run. Goal: the production shape ≥ 3× daphne's req/s at
the same or a lower p99. BENCH_HTTP=0 skips this part.

BENCH_RUNS (40) sets the runs per case; BENCH_ONLY=thread,older runs only the cases whose name holds
one of those words. Each case is rendered at two page sizes (list 30 / 100 rows, thread 40 / 100 messages, API 50 / 100)
and prints p50/p99 and the query count (every statement executed) of both. Exits non-zero if a query
count grows with the page size, or if a p99 is over the goal (100 ms) and BENCH_STRICT_TIME=1.
"""

import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sampark_listbench")

from bench.common import (  # noqa: E402
    PRODUCTION_MODE, cpu_seconds, ensure_database, machine_reference, production_shape, server_line, start_daphne, stop, wait_for_server, wrk,
)

for name, value in PRODUCTION_MODE.items():  # as in production (query counts are taken either way)
    os.environ.setdefault(name, value)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import Role, Team, User  # noqa: E402
from contacts.models import Label  # noqa: E402
from inbox import api, views  # noqa: E402
from inbox.models import Channel, Conversation, Message  # noqa: E402
from core.pagination import PagesWithoutCount  # noqa: E402
from core.startup import freeze_startup_objects  # noqa: E402

N_CONVERSATIONS = int(os.environ.get("BENCH_CONVERSATIONS", 100_000))
LONG_THREADS = [20_000, 15_000, 12_000, 10_000, 10_000]
# Short threads: 1 + floor(26 * random()^2) messages, mean ~9.2, so ~1M messages in all.
SHORT_SPREAD = 26
RUNS = int(os.environ.get("BENCH_RUNS", 40))
ONLY = os.environ.get("BENCH_ONLY", "")  # e.g. "thread,older": only the cases whose label holds one of these
GOAL_MS = 100.0
PAGE_SIZES = {"list": (30, 100), "thread": (40, 100), "api": (50, 100)}


# ---------------------------------------------------------------- the data set


def ensure_data() -> None:
    if connection.vendor != "postgresql":
        sys.exit("bench/inbox_list.py measures PostgreSQL: set DATABASE_URL=postgres://…")
    ensure_database(os.environ["DATABASE_URL"])
    call_command("migrate", verbosity=0)
    if Conversation.objects.count() >= N_CONVERSATIONS:
        return
    if Conversation.objects.exists():
        sys.exit("The bench database holds a partial data set; drop it (dropdb sampark_listbench) and rerun.")
    started = time.perf_counter()
    with transaction.atomic():  # all or nothing: a failed run leaves an empty database
        _create_data_set()
    print(f"data set ready in {time.perf_counter() - started:.0f} s", flush=True)


def _create_data_set() -> None:
    rng = random.Random(7)
    teams = [Team.objects.create(name=name) for name in ("Sales", "Support", "Billing")]
    User.objects.create_user("bench-supervisor", password="bench", role=Role.SUPERVISOR, first_name="Sam")
    agents = []
    for i in range(12):
        agent = User.objects.create_user(f"bench-agent-{i}", password="bench", role=Role.AGENT, first_name=f"Agent {i}")
        agent.teams.add(teams[i % 3])
        agents.append(agent)
    channels = [
        Channel.objects.create(kind=Channel.Kind.WHATSAPP, name="Sales WhatsApp", phone_number="+912240001000", team=teams[0]),
        Channel.objects.create(kind=Channel.Kind.WHATSAPP, name="Support WhatsApp", phone_number="+912240002000", team=teams[1]),
        Channel.objects.create(kind=Channel.Kind.RCS, name="Billing RCS", phone_number="+912240003000", team=teams[2]),
    ]
    labels = [
        Label.objects.create(name=name, color=f"#{rng.randrange(0x1000000):06x}")
        for name in ("VIP", "Lead", "Refund", "Complaint", "Order", "Follow-up", "Spam", "Partner")
    ]
    channel_ids = [c.pk for c in channels]
    channel_teams = [c.team_id for c in channels]
    agent_ids = [a.pk for a in agents]
    agent_teams = [teams[i % 3].pk for i in range(12)]
    print(f"creating {N_CONVERSATIONS} contacts and conversations…", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        # One in ten contacts has no name: the list then shows the phone number.
        cursor.execute(
            """
            INSERT INTO contacts_contact (name, email, custom_fields, created_at, updated_at)
            SELECT CASE WHEN g %% 10 = 0 THEN '' ELSE (ARRAY['Aarav','Diya','Ishaan','Meera','Rohan','Sara','Vikram','Ananya'])[1 + g %% 8]
                        || ' ' || (ARRAY['Sharma','Iyer','Patel','Reddy','Khan','Das','Nair','Gupta','Singh'])[1 + g %% 9] || ' ' || g END,
                   '', '{}', now(), now()
            FROM generate_series(1, %s) g
            """,
            [N_CONVERSATIONS],
        )
        cursor.execute(
            """
            INSERT INTO contacts_contactphone (number, label, is_primary, contact_id)
            SELECT '+9198' || lpad(id::text, 8, '0'), '', true, id FROM contacts_contact
            """
        )
        # Conversations: 35% open, 15% pending, 5% snoozed (some due), 45% resolved; 40% in the shared
        # pool or the team's queue, the rest assigned to an agent of the channel's team.
        cursor.execute(
            """
            INSERT INTO inbox_conversation (channel_id, contact_id, status, snoozed_until, assignee_id, team_id,
                                            last_message_preview, unread_count, created_at, updated_at)
            SELECT channel_id, id, status,
                   CASE WHEN status = 'snoozed' THEN now() + (random() * 4 - 1) * interval '1 day' END,
                   CASE WHEN r_assign < 0.6 THEN (%(agents)s::bigint[])[1 + (pick * 3)::int + (channel_ix - 1)] END,
                   CASE WHEN r_assign < 0.9 THEN (%(channel_teams)s::bigint[])[channel_ix] END,
                   '', CASE WHEN status = 'open' AND random() < 0.5 THEN 1 + (random() * 6)::int ELSE 0 END, now(), now()
            FROM (
                SELECT id, 1 + id %% 3 AS channel_ix, (%(channels)s::bigint[])[1 + id %% 3] AS channel_id,
                       random() AS r_assign, floor(random() * 4) AS pick,
                       CASE WHEN r < 0.35 THEN 'open' WHEN r < 0.50 THEN 'pending' WHEN r < 0.55 THEN 'snoozed' ELSE 'resolved' END AS status
                FROM (SELECT id, random() AS r FROM contacts_contact) c
            ) s
            """,
            {"agents": _agents_by_team(agent_ids, agent_teams, channel_teams), "channels": channel_ids, "channel_teams": channel_teams},
        )
        cursor.execute("SELECT min(id) FROM inbox_conversation")
        first_id = cursor.fetchone()[0]
        long_ids = list(range(first_id, first_id + len(LONG_THREADS)))
        # The long threads are open, unread and assigned to agent 0 so both users reach them.
        cursor.execute(
            "UPDATE inbox_conversation SET status = 'open', assignee_id = %s, team_id = %s, unread_count = 3 WHERE id = ANY(%s)",
            [agent_ids[0], channel_teams[0], long_ids],
        )
        cursor.execute("UPDATE inbox_conversation SET channel_id = %s WHERE id = ANY(%s)", [channel_ids[0], long_ids])
        cursor.execute(
            """
            CREATE TEMP TABLE bench_thread_sizes AS
            SELECT c.id, c.channel_id, c.assignee_id,
                   CASE WHEN idx > 0 THEN (%s::int[])[idx] ELSE 1 + floor(%s * random() ^ 2)::int END AS n
            FROM inbox_conversation c, LATERAL array_position(%s::bigint[], c.id) AS idx
            """,
            [LONG_THREADS, SHORT_SPREAD, long_ids],
        )
        cursor.execute("SELECT sum(n) FROM bench_thread_sizes")
        total = cursor.fetchone()[0]
        print(f"creating {total} messages…", flush=True)
        # Messages alternate customer / agent, every 25th is a private note; agent messages are
        # mostly read, some delivered or sent, a few failed. Threads end at a random moment in the
        # last 60 days, three minutes between messages.
        cursor.execute(
            """
            INSERT INTO inbox_message (uid, channel_id, conversation_id, direction, source, type, body, content, status,
                                       error_code, error_message, provider_message_id, provider_request_id,
                                       reply_to_provider_id, reactions, display, timestamp, created_at, sender_id)
            SELECT gen_random_uuid(), t.channel_id, t.id, m.direction,
                   CASE m.direction WHEN 'in' THEN 'customer' ELSE 'agent' END,
                   CASE WHEN s % 40 = 7 THEN 'image' ELSE 'text' END,
                   CASE m.direction WHEN 'in' THEN 'Hi, about my order ' ELSE 'Thanks! Looking into order ' END || t.id || ' (' || s || ')',
                   '{}',
                   CASE WHEN m.direction = 'in' THEN 'received' WHEN m.direction = 'note' THEN 'sent'
                        WHEN s % 97 = 5 THEN 'failed' WHEN s % 11 = 3 THEN 'delivered' WHEN s % 13 = 4 THEN 'sent' ELSE 'read' END,
                   CASE WHEN m.direction = 'out' AND s % 97 = 5 THEN '131047' ELSE '' END,
                   CASE WHEN m.direction = 'out' AND s % 97 = 5 THEN 'Re-engagement message' ELSE '' END,
                   CASE WHEN m.direction = 'note' THEN NULL ELSE 'wamid.bench.' || t.id || '.' || s END,
                   '', '', '{}', '{}', t.ends - (t.n - s) * interval '3 minutes', now(),
                   CASE WHEN m.direction = 'in' THEN NULL ELSE t.assignee_id END
            FROM (SELECT *, now() - random() * interval '60 days' AS ends FROM bench_thread_sizes) t,
                 LATERAL generate_series(1, t.n) s,
                 LATERAL (SELECT CASE WHEN s % 25 = 0 THEN 'note' WHEN s % 2 = 1 THEN 'in' ELSE 'out' END AS direction) m
            """
        )
        cursor.execute(
            """
            UPDATE inbox_conversation c
            SET last_message_at = l.ts, last_message_preview = left(l.body, 200), last_inbound_at = l.inbound
            FROM (
                SELECT DISTINCT ON (conversation_id) conversation_id, timestamp AS ts, body,
                       max(timestamp) FILTER (WHERE direction = 'in') OVER (PARTITION BY conversation_id) AS inbound
                FROM inbox_message ORDER BY conversation_id, timestamp DESC, id DESC
            ) l
            WHERE l.conversation_id = c.id
            """
        )
        # A third of the conversations carry one or two labels.
        cursor.execute(
            """
            INSERT INTO inbox_conversation_labels (conversation_id, label_id)
            SELECT DISTINCT c.id, (%(labels)s::bigint[])[1 + (random() * 7)::int]
            FROM inbox_conversation c, generate_series(1, 2) k
            WHERE c.id %% 3 = 0 AND (k = 1 OR c.id %% 2 = 0)
            """,
            {"labels": [label.pk for label in labels]},
        )
        cursor.execute("ANALYZE")


def _agents_by_team(agent_ids, agent_teams, channel_teams) -> list[int]:
    """Flattened so that element [1 + pick * 3 + (channel_ix - 1)] is agent `pick` of that channel's team."""
    by_team = {team: [a for a, t in zip(agent_ids, agent_teams) if t == team] for team in channel_teams}
    return [by_team[team][pick] for pick in range(4) for team in channel_teams]


# ---------------------------------------------------------------- the cases


class SizedPages(PagesWithoutCount):
    page_size = PAGE_SIZES["api"][0]


def set_page_size(size_index: int) -> None:
    views.PAGE_SIZE = PAGE_SIZES["list"][size_index]
    views.THREAD_PAGE = PAGE_SIZES["thread"][size_index]
    SizedPages.page_size = PAGE_SIZES["api"][size_index]


def cases(agent: User, supervisor: User) -> list[tuple[str, User, str]]:
    longest = Conversation.objects.order_by("id").first()  # the 20k-message thread, assigned to agent 0
    middle = Message.objects.filter(conversation=longest).order_by("-timestamp", "-id").values_list("pk", flat=True)[10_000]
    label = Label.objects.get(name="VIP")
    searches = search_cases()
    result = []
    for user, who in ((agent, "agent"), (supervisor, "supervisor")):
        result += [(f"{who}: search {name}", user, "/inbox/list/?" + urlencode({"q": query})) for name, query in searches]
        result += [
            (f"{who}: inbox page", user, "/inbox/"),
            (f"{who}: list mine", user, "/inbox/list/?view=mine"),
            (f"{who}: list unassigned", user, "/inbox/list/?view=unassigned"),
            (f"{who}: list all", user, "/inbox/list/?view=all"),
            (f"{who}: list status=open", user, "/inbox/list/?status=open"),
            (f"{who}: list status=pending", user, "/inbox/list/?status=pending"),
            (f"{who}: list label=VIP", user, f"/inbox/list/?label={label.pk}"),
            (f"{who}: load more (page 2)", user, "/inbox/list/more/?page=2"),
            (f"{who}: load more (page 10)", user, "/inbox/list/more/?view=all&page=10"),
            (f"{who}: conversation page (20k)", user, f"/inbox/{longest.pk}/"),
            (f"{who}: thread partial (20k)", user, f"/inbox/{longest.pk}/thread/"),
            (f"{who}: load older (20k)", user, f"/inbox/{longest.pk}/older/?before={middle}"),
            (f"{who}: API conversations", user, "/api/conversations/"),
            (f"{who}: API conversations open", user, "/api/conversations/?status=open&view=all"),
            (f"{who}: API messages (20k)", user, f"/api/conversations/{longest.pk}/messages/"),
        ]
    return result


def search_cases() -> list[tuple[str, str]]:
    """Searches as agents type them, about one conversation of agent 0's team (a sixth of the way into
    the data set): its contact's full name, a first name an eighth of contacts share, its phone typed
    nationally with a trunk 0 and as its last digits, its order number (in its messages), a phrase in
    half of all messages, and a miss."""
    conversation = (
        Conversation.objects.filter(team__members__username="bench-agent-0", contact__name__gt="")
        .select_related("contact")
        .order_by("id")[N_CONVERSATIONS // 6]
    )
    number = conversation.contact.phones.get().number  # +9198xxxxxxxx
    national = "0" + number[3:8] + " " + number[8:]
    return [
        ("name", conversation.contact.name),
        ("name fragment (common)", conversation.contact.name.split()[0]),
        ("phone, national form", national),
        ("phone, last digits", number[-5:]),
        ("message text (order no.)", f"order {conversation.pk}"),
        ("message text (common)", "looking into"),
        ("no match", "zqxwv"),
    ]


def measure(client: Client, url: str, runs: int) -> tuple[list[float], int, int]:
    response = client.get(url)  # warm up (and fail loudly on anything but 200)
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}: {response.content[:300]!r}")
    captured = []

    def count(execute, sql, params, many, context):
        captured.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):  # counts with DEBUG off, unlike the query log
        response = client.get(url)
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
    return sorted(samples), len(captured), len(response.content)


def percentile(samples: list[float], fraction: float) -> float:
    return samples[min(len(samples) - 1, int(len(samples) * fraction))]


def main() -> int:
    ensure_data()
    call_command("collectstatic", interactive=False, verbosity=0)  # DEBUG off serves the hashed manifest
    freeze_startup_objects()  # as daphne does at startup (config/asgi.py)
    api.ConversationViewSet.pagination_class = SizedPages
    agent = User.objects.get(username="bench-agent-0")
    supervisor = User.objects.get(username="bench-supervisor")
    clients = {}
    for user in (agent, supervisor):
        clients[user.pk] = Client()
        clients[user.pk].force_login(user)
    print(machine_reference())
    print(
        f"{Conversation.objects.count()} conversations, {Message.objects.count()} messages; {RUNS} runs per case\n"
        f"page sizes: list {PAGE_SIZES['list']}, thread {PAGE_SIZES['thread']}, API {PAGE_SIZES['api']}\n"
    )
    print(f"{'case':<40} {'queries':>9}  {'p50 ms':>15}  {'p99 ms':>15}  {'kB':>9}")
    grew, slow = [], []
    for label, user, url in cases(agent, supervisor):
        if ONLY and not any(part in label for part in ONLY.split(",")):
            continue
        results = []
        for size_index in (0, 1):
            set_page_size(size_index)
            results.append(measure(clients[user.pk], url, RUNS))
        (small, q_small, kb_small), (large, q_large, kb_large) = results
        p99 = max(percentile(small, 0.99), percentile(large, 0.99))
        flags = []
        if q_small != q_large:
            grew.append(label)
            flags.append("QUERY COUNT GROWS")
        if p99 > GOAL_MS:
            slow.append(label)
            flags.append("SLOW")
        print(
            f"{label:<40} {q_small:>4}/{q_large:<4}  {statistics.median(small):6.1f}/{statistics.median(large):<6.1f}  "
            f"{percentile(small, 0.99):6.1f}/{percentile(large, 0.99):<6.1f}  {kb_small // 1024:>4}/{kb_large // 1024:<4} {' '.join(flags)}",
            flush=True,
        )
    print()
    if grew:
        print(f"FAIL: the query count grows with the page size in: {', '.join(grew)}")
    if slow:
        print(f"{'FAIL' if os.environ.get('BENCH_STRICT_TIME') == '1' else 'NOTE'}: p99 over {GOAL_MS:.0f} ms in: {', '.join(slow)}")
    if not grew and not slow:
        print(f"OK: every case p99 < {GOAL_MS:.0f} ms, query counts independent of page size")
    if os.environ.get("BENCH_HTTP", "1") != "0":
        http_comparison(clients[agent.pk].cookies["sessionid"].value)
    return 1 if grew or (slow and os.environ.get("BENCH_STRICT_TIME") == "1") else 0


def http_comparison(session: str) -> None:
    """The agent's reads over HTTP: today's daphne and the production shape, one after the other."""
    seconds = float(os.environ.get("BENCH_HTTP_SECONDS", 8))
    longest = Conversation.objects.order_by("id").first()
    urls = [("inbox page", "/inbox/"), ("list partial", "/inbox/list/?view=all"),
            ("thread partial (20k)", f"/inbox/{longest.pk}/thread/"), ("API conversations", "/api/conversations/")]
    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING", "REDIS_URL": ""}
    headers = {"Cookie": f"sessionid={session}"}
    results = {"daphne": [], "shape": []}
    daphne = start_daphne(env, 8501, name="inbox-list")
    shape = production_shape(env, 8500, name="inbox-list")
    try:
        wait_for_server("127.0.0.1", 8501)
        shape.start()
        pids = {"daphne": [daphne.pid], "shape": [process.pid for _, process in shape.processes]}
        for _, url in urls:  # both up, each URL measured on one then the other: the same moment's machine
            for name, base in (("daphne", "http://127.0.0.1:8501"), ("shape", shape.url)):
                wrk(f"{base}{url}", 1, headers=headers)  # first renders (every worker loads its templates)
                before = cpu_seconds(pids[name])
                result = wrk(f"{base}{url}", seconds, headers=headers)
                result["cpu_ms"] = (cpu_seconds(pids[name]) - before) * 1000 / max(1, result["rps"] * seconds)
                results[name].append(result)
    finally:
        stop(daphne)
        shape.stop()
    print(f"\nHTTP under load (wrk, 8 connections, {seconds:g} s each, as the agent):")
    print(f"  today: one daphne process serving everything;  new: {server_line(shape)}")
    print("  (cpu: server CPU ms per request — nginx and gunicorn, or daphne — not PostgreSQL's: it follows the code, not the machine's load)")
    print(f"{'case':<24} {'daphne req/s':>12} {'p50':>7} {'p99':>7} {'cpu':>5}   {'shape req/s':>11} {'p50':>7} {'p99':>7} {'cpu':>5}   {'ratio':>5}")
    for (name, _), old, new in zip(urls, results["daphne"], results["shape"]):
        failed = " FAILED ANSWERS" if old["failed"] or new["failed"] else ""
        print(f"{name:<24} {old['rps']:12.0f} {old['p50']:7.1f} {old['p99']:7.1f} {old['cpu_ms']:5.1f}   {new['rps']:11.0f} "
              f"{new['p50']:7.1f} {new['p99']:7.1f} {new['cpu_ms']:5.1f}   {new['rps'] / old['rps']:5.2f}{failed}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
