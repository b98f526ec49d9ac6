"""One timeline per contact. Apps contribute entries (notes here; messages, calls and dialplan
requests from their own apps) by registering a source from AppConfig.ready().

A source is given the viewer and must apply its own app's visibility rule: seeing a contact never
grants its conversations or calls (an agent may open an unowned customer whose conversation belongs
to another team; that conversation stays hidden, on the timeline as in the inbox)."""

import datetime
from dataclasses import dataclass
from typing import Any, Callable

from accounts.models import User
from contacts.models import Contact


@dataclass(frozen=True)
class Entry:
    at: datetime.datetime
    kind: str  # "note", "message", "call", … — picks the partial `contacts/timeline/<kind>.html`
    obj: Any

    @property
    def template(self) -> str:
        return f"contacts/timeline/{self.kind}.html"


# source(contact, viewer, limit) -> list[Entry], newest first, only what `viewer` may see
Source = Callable[[Contact, User, int], list[Entry]]
SOURCES: list[Source] = []


def register(source: Source) -> None:
    if source not in SOURCES:
        SOURCES.append(source)


def notes_source(contact: Contact, viewer: User, limit: int) -> list[Entry]:
    """Contact notes are shared by everyone who may see the contact."""
    return [Entry(n.created_at, "note", n) for n in contact.notes.select_related("author")[:limit]]


def timeline_for(contact: Contact, viewer: User, limit: int = 50) -> list[Entry]:
    entries = [entry for source in SOURCES for entry in source(contact, viewer, limit)]
    return sorted(entries, key=lambda e: e.at, reverse=True)[:limit]
