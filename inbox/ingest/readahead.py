"""The rows a batch of webhook events reads, fetched up front in a few queries instead of several per event.

`BatchRows.read(batch)` parses each event once (inbox.ingest.parse) and reads what the parsed records
name: contacts by phone number and their conversations (locked in primary-key order, so concurrent
drains cannot deadlock on them), and the stored messages the batch names — its own ids (a duplicate
delivery is skipped without an insert) and the ones its replies and reactions quote. It remembers the
messages the batch inserts, so that replies and reactions which arrived before them (out-of-order
delivery) are linked by one query when the batch ends.

The drain opens a batch around its events (`batch_open`); code that applies a record outside a drain
(a replay of one event, a test, a future importer) gets a batch of its own from `batch_open()` too,
which reads on demand and links its waiting messages when it closes.
"""

from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar

from contacts.models import Contact, ContactPhone
from contacts.services import find_or_create_by_phone
from core import phones
from inbox import events
from inbox.display import display_of
from inbox.ingest.parse import records_of
from inbox.models import Channel, Conversation, Message, WebhookEvent
from inbox.providers.payloads import InboundMessage, NothingToApply, StatusUpdate, Typing


class BatchRows:
    """What the events of one batch read; see the module docstring."""

    def __init__(self, contacts: dict, conversations: dict, message_pks: dict, named: set, records: dict | None = None):
        self.contacts: dict[str, Contact | None] = contacts  # E.164 → contact (None: nobody had the number)
        self.new_contact_ids: set[int] = set()  # created by this batch, so they have no conversation yet
        self.conversations: dict[tuple[int, int], Conversation] = conversations  # (channel, contact) → locked row
        # (channel, provider id) → the stored message's (pk, conversation), None when not stored
        self.message_pks: dict[tuple[int, str], tuple[int, int] | None] = message_pks
        self.named = named  # the (channel, provider id) pairs whose absence from message_pks means "not stored"
        self.records: dict[int, list | Exception] = records or {}  # event pk → its parsed records, or why it has none
        self.inserted: list[Message] = []

    @classmethod
    def empty(cls) -> "BatchRows":
        """A batch that has read nothing ahead: every look is a query."""
        return cls({}, {}, {}, set())

    @classmethod
    def read(cls, batch: list[WebhookEvent]) -> "BatchRows":
        records = {event.pk: _parse(event) for event in batch if event.source in PARSED_SOURCES}
        numbers, named = set(), set()
        for event in batch:
            for number, provider_ids in _senders_and_ids(records.get(event.pk)):
                if number:
                    numbers.add(number)
                named.update((event.channel_id, provider_id) for provider_id in provider_ids if provider_id)
        channel_ids = {event.channel_id for event in batch if event.channel_id}
        contacts = dict.fromkeys(numbers)  # None: nobody has this number yet
        if numbers:
            contacts.update((phone.number, phone.contact) for phone in ContactPhone.objects.filter(number__in=numbers).select_related("contact"))
        known_contact_ids = [contact.pk for contact in contacts.values() if contact is not None]
        conversations = {
            (c.channel_id, c.contact_id): c
            for c in Conversation.objects.select_for_update()
            .filter(channel_id__in=channel_ids, contact_id__in=known_contact_ids)
            .order_by("pk")
        } if known_contact_ids and channel_ids else {}
        message_pks = {
            (channel_id, provider_id): (pk, conversation_id)
            for pk, conversation_id, channel_id, provider_id in Message.objects.filter(
                channel_id__in=channel_ids, provider_message_id__in={provider_id for _, provider_id in named}
            ).values_list("pk", "conversation_id", "channel_id", "provider_message_id")
            if (channel_id, provider_id) in named
        } if named else {}
        return cls(contacts, conversations, message_pks, named, records)

    def records_of(self, event: WebhookEvent) -> list:
        """The event's records, parsed once per batch; raises what parsing raised."""
        found = self.records.get(event.pk)
        if found is None:
            found = self.records[event.pk] = _parse(event)
        if isinstance(found, Exception):
            raise found
        return found

    # ---------------------------------------------------------------- looks

    def _stored(self, channel_id: int, provider_id: str) -> tuple[int, int] | None:
        if not provider_id:
            return None
        key = (channel_id, provider_id)
        if key not in self.message_pks and key not in self.named:  # a payload shape the read-ahead missed
            self.message_pks[key] = (
                Message.objects.filter(channel_id=channel_id, provider_message_id=provider_id).values_list("pk", "conversation_id").first()
            )
        return self.message_pks.get(key)

    def stored_pk(self, channel_id: int, provider_id: str) -> int | None:
        """The message stored under this provider id on the channel (ids are unique per channel)."""
        stored = self._stored(channel_id, provider_id)
        return stored[0] if stored else None

    def quoted_pk(self, conversation: Conversation, provider_id: str) -> int | None:
        """The message a reply or reaction points at — only within its own conversation: an id from
        another conversation (another audience) is treated as a message not in Sampark."""
        stored = self._stored(conversation.channel_id, provider_id)
        return stored[0] if stored and stored[1] == conversation.pk else None

    def contact(self, phone: str, name: str) -> Contact:
        contact, created = find_or_create_by_phone(phone, name=name, known=self.contacts)
        if created:
            self.new_contact_ids.add(contact.pk)
        return contact

    def conversation(self, channel: Channel, contact: Contact) -> tuple[Conversation, bool]:
        """The contact's conversation on the channel, locked (opened when it had none); True when opened."""
        key = (channel.pk, contact.pk)
        if key in self.conversations:
            return self.conversations[key], False
        # A contact this batch created has no conversation, and nobody else can see it before we commit:
        # no lookup, and no race to guard with a savepoint.
        conversation, opened = Conversation.objects.for_contact(contact, channel, lock=True, new_contact=contact.pk in self.new_contact_ids)
        self.conversations[key] = conversation
        return conversation, opened

    # ---------------------------------------------------------------- what the batch wrote

    def add(self, message: Message) -> None:
        self.inserted.append(message)
        if message.provider_message_id:
            self.message_pks[(message.channel_id, message.provider_message_id)] = (message.pk, message.conversation_id)

    def forget(self, *, inserted_since: int) -> None:
        """An event was rolled back: what it created or changed in memory may not exist. Read again."""
        for message in self.inserted[inserted_since:]:
            self.message_pks.pop((message.channel_id, message.provider_message_id), None)
        del self.inserted[inserted_since:]
        self.contacts.clear()
        self.new_contact_ids.clear()
        self.conversations.clear()

    def link_waiting_messages(self) -> None:
        """Replies and reactions that arrived before a message of this batch now point at it."""
        targets = {(m.channel_id, m.provider_message_id): m for m in self.inserted if m.provider_message_id}
        if not targets:
            return
        waiting = defaultdict(list)
        for reply in Message.objects.filter(
            channel_id__in={channel_id for channel_id, _ in targets},
            reply_to__isnull=True,
            reply_to_provider_id__in={provider_id for _, provider_id in targets},
        ):
            target = targets.get((reply.channel_id, reply.reply_to_provider_id))
            if target is not None and target.pk != reply.pk and target.conversation_id == reply.conversation_id:
                waiting[target].append(reply)
        for target, replies in waiting.items():
            Message.objects.filter(pk__in=[reply.pk for reply in replies]).update(reply_to=target)
            for reaction in sorted((m for m in replies if m.type == "reaction"), key=lambda m: m.timestamp):
                if target.take_reaction(reaction.direction, display_of(reaction).get("text", ""), reaction.timestamp):
                    events.message_updated(target)


PARSED_SOURCES = {"tata_whatsapp", "tata_rcs"}  # the inbox's own; other apps' sources read ahead for themselves (drain.SOURCE_READ_AHEAD)

_open_batch: ContextVar[BatchRows | None] = ContextVar("ingest_batch_rows", default=None)


@contextmanager
def batch_open(rows: BatchRows | None = None):
    """The batch what runs inside reads through: `rows`, else the one already open, else a new empty
    one, which links its waiting messages when it closes (the drain links its own)."""
    current = _open_batch.get()
    if rows is None and current is not None:
        yield current
        return
    owned = rows is None
    rows = rows or BatchRows.empty()
    token = _open_batch.set(rows)
    try:
        yield rows
        if owned:
            rows.link_waiting_messages()
    finally:
        _open_batch.reset(token)


def _parse(event: WebhookEvent) -> list | Exception:
    try:
        return records_of(event)
    except Exception as exc:  # noqa: BLE001 - kept: applying the event raises it, in the event's own savepoint
        return exc


def _senders_and_ids(records):
    """(E.164 customer, provider ids it names: its own and the one it quotes or reacts to) of each record."""
    if not isinstance(records, list):
        return
    for record in records:
        if isinstance(record, InboundMessage):
            yield record.sender, [record.provider_id, record.reply_to_provider_id]
        elif isinstance(record, StatusUpdate):
            yield phones.try_e164(record.recipient), [record.provider_id]
        elif isinstance(record, Typing):
            yield record.user, []
        elif isinstance(record, NothingToApply):
            yield record.sender, []
