"""Page numbers without a total, for lists that grow large (conversations, a thread's messages).

DRF's PageNumberPagination counts every row the filters match to report `count`: for an inbox of
tens of thousands of conversations that COUNT(*) cost more than reading the page (13.6 of 44 ms).
Here a page reads one row more than it shows (`page_of`, which the inbox's own "Load more" uses
too) to know whether another follows. Responses carry `next`, `previous` and `results`.
"""

from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param


# Past this, the row offset no longer fits the database's integer (a 500 for `?page=999…`).
MAX_PAGE = 10**9


def page_of(queryset, *, start: int, size: int) -> tuple[list, bool]:
    """`size` rows from `start`, and whether more follow: one row more than the page instead of a count."""
    rows = list(queryset[start : start + size + 1])
    return rows[:size], len(rows) > size


class PagesWithoutCount(PageNumberPagination):
    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        size = self.get_page_size(request)
        raw = request.query_params.get(self.page_query_param, "1")
        try:
            self.number = int(raw)
        except ValueError:
            raise NotFound(f"“{raw}” is not a page number.") from None
        if self.number < 1:
            raise NotFound("Pages start at 1.")
        if self.number > MAX_PAGE:
            raise NotFound(f"There is no page {raw}.")
        rows, self.has_next = page_of(queryset, start=(self.number - 1) * size, size=size)
        return rows

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "previous": self.get_previous_link(), "results": data})

    def get_next_link(self):
        if not self.has_next:
            return None
        return replace_query_param(self.request.build_absolute_uri(), self.page_query_param, self.number + 1)

    def get_previous_link(self):
        if self.number == 1:
            return None
        url = self.request.build_absolute_uri()
        if self.number == 2:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, self.number - 1)

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"].pop("count", None)
        schema["required"] = [name for name in schema.get("required", []) if name != "count"]
        return schema
