from django import template

from core.links import http_url as _http_url

register = template.Library()


@register.filter
def http_url(value) -> str:
    """{{ provider_url|http_url }}: the URL if it is http(s), else "" (wrap the link in {% if %})."""
    return _http_url(value)
