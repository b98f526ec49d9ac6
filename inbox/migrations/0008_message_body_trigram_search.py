"""A trigram GIN index on message text, for the inbox's search, on PostgreSQL (no-op elsewhere).

The search matches `body ILIKE '%fragment%'` (core/lookups.py); this index finds the few messages that
hold a rare fragment among millions. Built CONCURRENTLY, so webhooks keep writing messages while it
builds on a large table, and with fastupdate off, as the contacts' trigram indexes (contacts 0004):
a pending list would be read in full by every search until a vacuum merged it.
"""

from django.db import migrations

NAME = "message_body_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    with schema_editor.connection.cursor() as cursor:
        # A build that was interrupted leaves an invalid index behind: rebuild it.
        cursor.execute("SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [NAME])
        row = cursor.fetchone()
    if row and row[0]:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NAME} ON inbox_message USING gin (body gin_trgm_ops) WITH (fastupdate = off)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("inbox", "0007_voice_channels_and_call_webhooks"), ("contacts", "0002_trigram_search_indexes")]
    operations = [migrations.RunPython(create, drop, atomic=False)]
