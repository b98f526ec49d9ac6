"""The REST API's JSON parser: DRF's reads any nesting depth (a RecursionError, answered 500) and lets NUL,
lone surrogates and NaN through to the database. This one reads the same media type through
core.untrusted.loads_json, like every provider body: too deep or not JSON is a 400."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from core.untrusted import NotJSON, loads_json


class UntrustedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return loads_json(stream.read())
        except NotJSON as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
