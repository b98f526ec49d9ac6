"""Replying from the CRM: every outbound WhatsApp and RCS message is created and delivered through here.

- `rules`    — may this conversation be written to now, and with what (permissions, opt-out, the 24-hour
               window, WhatsApp's limits on text, buttons, lists and files).
- `send`     — the send services: check, store the Message `queued`, announce it, and enqueue
               `inbox.deliver_message` after commit; an agent's Retry.
- `delivery` — the task's side: hand a queued message to Tata exactly once, reconcile sends whose worker
               died, re-queue messages whose task was lost; tell other apps (SETTLED_HOOKS) when a
               message is sent or failed for good.
- `views`, `urls` — the composer, retry, templates, canned replies, opt-in/out, new conversations.
"""
