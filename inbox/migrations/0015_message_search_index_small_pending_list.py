"""The message search index takes new rows through a small pending list (fastupdate, 256 kB).

With fastupdate off (0008) every new message wrote its ~60 trigrams straight into the GIN index: two
thirds of PostgreSQL's work per inserted message, and the ceiling of history imports. GIN's pending
list merges them in bulk instead, about three times cheaper (20,000 inserted messages: 3.9–4.2 s →
1.1–1.5 s). What 0008 feared was the default 4 MB list, which every search reads in full until a
merge: at 256 kB a search reads at most that much (searches measured 2–3 ms either way), and the
insert that fills the list merges it, so it never waits for a vacuum.
"""

from django.db import migrations

NAME = "message_body_trgm"


def small_pending_list(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER INDEX IF EXISTS {NAME} SET (fastupdate = on, gin_pending_list_limit = 256)")


def straight_into_the_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER INDEX IF EXISTS {NAME} SET (fastupdate = off)")
        schema_editor.execute(f"ALTER INDEX IF EXISTS {NAME} RESET (gin_pending_list_limit)")


class Migration(migrations.Migration):
    dependencies = [("inbox", "0014_message_source_phone")]
    operations = [migrations.RunPython(small_pending_list, straight_into_the_index)]
