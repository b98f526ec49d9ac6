"""Content-Security-Policy for every page the app serves.

A small middleware rather than django-csp: one policy, one nonce, no configuration surface. Scripts
load only from our own origin (htmx, static/js) or carry the request's nonce
(`<script nonce="{{ request.csp_nonce }}">`); inline event handlers (`onclick=`) never run, so the
pages declare behaviour with data attributes (static/js/app.js). Styles allow inline `style=""`
(label colours, progress bars; htmx adds its indicator style): CSS cannot run script, and every value
in it is escaped. Responses that set their own policy (stored files: `sandbox`) keep it.
"""

import secrets

POLICY = (
    "default-src 'self'; "
    "script-src 'self' 'nonce-{nonce}'; "
    "style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; "  # blob: the composer's preview of a chosen photo (an <img> runs no script)
    "media-src 'self'; "
    "connect-src 'self'; "  # includes the live websocket on the same host (ws/wss)
    "font-src 'self'; "
    "object-src 'none'; "
    "base-uri 'self'; "
    "form-action 'self'; "
    "frame-ancestors 'none'"
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = nonce = secrets.token_urlsafe(16)
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = POLICY.format(nonce=nonce)
        return response
