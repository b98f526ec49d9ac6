"""Stored webhook events → contacts, conversations, messages and statuses. Idempotent.

- drain.py: the drain (batches, savepoints, outcomes, setting poison events aside, the gate that keeps
  one drain queued) and the registry other apps' webhook sources plug into (SOURCE_APPLIERS).
- parse.py: an event's bytes → the provider's typed records (inbox/providers/*: the JSON is read there).
- readahead.py: what a batch reads up front (contacts, conversations, known message ids), and the
  batch any apply runs in.
- apply.py: records → messages (inbound, reactions, attachments, system changes, typing).
- statuses.py: status records → our messages' ticks, placeholders for messages sent elsewhere.
"""
