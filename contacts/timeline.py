"""One timeline per contact. Apps contribute entries (notes here; messages, calls and dialplan
requests from their own apps) by registering a source from AppConfig.ready()."""

import datetime
from dataclasses import dataclass
from typing import Any, Callable

from contacts.models import Contact


@dataclass(frozen=True)
class Entry:
    at: datetime.datetime
    kind: str  # "note", "message", "call", … — picks the partial `contacts/timeline/<kind>.html`
    obj: Any

    @property
    def template(self) -> str:
        return f"contacts/timeline/{self.kind}.html"


# source(contact, limit) -> list[Entry], newest first
SOURCES: list[Callable[[Contact, int], list[Entry]]] = []


def register(source: Callable[[Contact, int], list[Entry]]) -> None:
    if source not in SOURCES:
        SOURCES.append(source)


def notes_source(contact: Contact, limit: int) -> list[Entry]:
    return [Entry(n.created_at, "note", n) for n in contact.notes.select_related("author")[:limit]]


def timeline_for(contact: Contact, limit: int = 50) -> list[Entry]:
    entries = [entry for source in SOURCES for entry in source(contact, limit)]
    return sorted(entries, key=lambda e: e.at, reverse=True)[:limit]
