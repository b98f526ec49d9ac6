"""Trigram GIN indexes for contact search on PostgreSQL (no-op elsewhere).

Names and emails are searched with the `ilike` lookup (core/lookups.py: col ILIKE '%q%') and phones with
contains (number::text LIKE '%q%'); these indexes serve both, so fragments stay fast at 100k+ contacts.
"""

from django.db import migrations

INDEXES = [
    ("contact_name_trgm", "contacts_contact", "name gin_trgm_ops"),
    ("contact_email_trgm", "contacts_contact", "email gin_trgm_ops"),
    ("contactphone_number_trgm", "contacts_contactphone", "((number)::text) gin_trgm_ops"),
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, expression in INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expression})")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("contacts", "0001_initial")]
    operations = [migrations.RunPython(create, drop)]
