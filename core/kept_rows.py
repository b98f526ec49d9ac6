"""What a webhook needs of the row its URL token names, kept per process for a few seconds.

Reading (and decrypting) a channel's fields was a third of a webhook's CPU, so each process keeps them.
A save or delete of the model in this process forgets every kept row at once; other processes see a
change within `seconds`. A row deleted elsewhere meanwhile is found gone when the event referring to
it is inserted (its foreign key fails): `insert` then answers False, and the view answers 404.
"""

from time import monotonic
from typing import Callable

from django.db import IntegrityError
from django.db.models.signals import post_delete, post_save


class KeptByToken:
    def __init__(self, model, load: Callable[[str], object], seconds: float = 10.0):
        """`load(token)` reads what to keep for a token from the database (None: no such row)."""
        self.model, self.load, self.seconds = model, load, seconds
        self._kept: dict[str, tuple[float, object]] = {}
        post_save.connect(self.forget, sender=model, weak=False)
        post_delete.connect(self.forget, sender=model, weak=False)

    def get(self, token: str, *, fresh: bool = False) -> tuple[object, bool]:
        """What is kept for `token` (None if no row has it), and whether it came from the cache."""
        kept = None if fresh else self._kept.get(token)
        if kept is not None and kept[0] > monotonic():
            return kept[1], True
        value = self.load(token)
        if value is None:
            self._kept.pop(token, None)
        else:
            self._kept[token] = (monotonic() + self.seconds, value)
        return value, False

    def keep(self, token: str, value, seconds: float | None = None) -> None:
        self._kept[token] = (monotonic() + (self.seconds if seconds is None else seconds), value)

    def forget(self, **signal_kwargs) -> None:
        self._kept.clear()

    def insert(self, event, row_id: int) -> bool:
        """Store `event`, which refers to the row `row_id`; False when that row is gone."""
        try:
            event.save(force_insert=True)
        except IntegrityError:
            if self.model.objects.filter(pk=row_id).exists():
                raise
            self.forget()
            return False
        return True
