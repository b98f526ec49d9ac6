"""The message search index's write path (inbox migration 0015)."""

import pytest
from django.db import connection

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="GIN trigram indexes are PostgreSQL's"),
]


def test_new_messages_reach_the_search_index_through_a_small_pending_list():
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'message_body_trgm'")
        (options,) = cursor.fetchone()
    assert sorted(options) == ["fastupdate=on", "gin_pending_list_limit=256"]

