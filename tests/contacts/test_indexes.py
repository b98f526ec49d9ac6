"""PostgreSQL index settings the contact lookups depend on."""

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="GIN trigram indexes are PostgreSQL's"),
]


def test_trigram_indexes_have_no_pending_list_that_every_scan_would_read():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname IN "
            "('contact_name_trgm', 'contact_email_trgm', 'contactphone_number_trgm')"
        )
        options = dict(cursor.fetchall())
    assert options == {name: ["fastupdate=off"] for name in ("contact_name_trgm", "contact_email_trgm", "contactphone_number_trgm")}
