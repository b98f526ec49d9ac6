"""One guard for the bodies providers send (Tata's and Smartflo's webhooks, the dialplan URL)."""

import io

import pytest
from django.core.handlers.asgi import ASGIRequest
from django.test import RequestFactory

from core.request_limits import BodyTooLarge, read_body


class Unreadable(io.BytesIO):
    def read(self, *args):
        raise AssertionError("the body was read")


def test_a_declared_length_over_the_limit_is_refused_before_a_byte_is_read():
    request = RequestFactory().post("/webhooks/tata/x/", data=b"x" * 100, content_type="application/json")
    request._stream = Unreadable()
    with pytest.raises(BodyTooLarge, match="larger than 10 bytes"):
        read_body(request, 10)


def test_a_body_without_a_length_is_cut_off_one_byte_past_the_limit():
    scope = {"type": "http", "method": "POST", "path": "/dialplan/x/", "headers": [], "query_string": b""}
    body = io.BytesIO(b"x" * 1000)
    request = ASGIRequest(scope, body)
    with pytest.raises(BodyTooLarge):
        read_body(request, 10)
    assert body.tell() == 11  # never more than limit + 1 bytes


def test_a_body_within_the_limit_is_returned_whole():
    request = RequestFactory().post("/webhooks/tata/x/", data=b'{"a": 1}', content_type="application/json")
    assert read_body(request, 8) == b'{"a": 1}'
