"""core.bulk_rows.copy_insert_new: the unique indexes drop the rows already stored (PostgreSQL's COPY)."""

import datetime

import pytest
from django.db import connection as db

from contacts.models import Contact
from core import bulk_rows
from inbox.models import Channel, Conversation, Message

pytestmark = [pytest.mark.django_db, pytest.mark.skipif(db.vendor != "postgresql", reason="PostgreSQL's COPY")]
AT = datetime.datetime(2025, 8, 12, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def conversation():
    channel = Channel.objects.create(kind=Channel.Kind.WHATSAPP, phone_number="+919876500001", name="Sales")
    return Conversation.objects.create(channel=channel, contact=Contact.objects.create(name="A"))


def message(conversation, provider_id=None, key=None, body="hello") -> Message:
    return Message(channel=conversation.channel, conversation=conversation, direction="in", source="import", body=body,
                   content={"text": {"body": "✓"}}, timestamp=AT, provider_message_id=provider_id, import_key=key)  # fmt: skip


def test_only_rows_that_break_no_unique_index_are_stored_and_returned(conversation):
    stored = message(conversation, "wamid.1", "a" * 64)
    stored.save()
    by_id, by_key, fresh, new = (message(conversation, "wamid.1", "b" * 64), message(conversation, "wamid.2", "a" * 64),
                                 message(conversation, "wamid.3", "c" * 64), message(conversation, None, "d" * 64))  # fmt: skip
    inserted = bulk_rows.copy_insert_new(Message, [by_id, by_key, fresh, new])
    assert {id(m) for m in inserted} == {id(fresh), id(new)}
    assert by_id.pk is None and by_key.pk is None and not fresh._state.adding
    assert set(Message.objects.values_list("pk", flat=True)) == {stored.pk, fresh.pk, new.pk}
    row = Message.objects.get(pk=new.pk)
    assert (row.content, row.import_key, row.uid, row.created_at) == ({"text": {"body": "✓"}}, "d" * 64, new.uid, new.created_at)


def test_the_staging_table_is_empty_for_the_next_call(conversation):
    assert len(bulk_rows.copy_insert_new(Message, [message(conversation, f"wamid.{i}") for i in range(3)])) == 3
    assert len(bulk_rows.copy_insert_new(Message, [message(conversation, f"wamid.{i}") for i in range(3, 5)])) == 2
    assert Message.objects.count() == 5
