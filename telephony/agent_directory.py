"""Who a Smartflo agent is in Sampark: agent number / id / extension → our user, through AgentLine."""

import time

from django.db.models import Q

from accounts.models import User
from core import phones
from telephony.models import AgentLine

AGENT_CACHE_SECONDS = 30.0


class AgentDirectory:
    """Smartflo's agent number / id / extension → our user. Answers are kept for AGENT_CACHE_SECONDS
    in the process (a drain applies many calls of the same few agents; lines rarely change)."""

    _shared: dict[str, tuple[float, int | None]] = {}

    def user_id(self, agent_number: str) -> int | None:
        if not agent_number:
            return None
        now = time.monotonic()
        cached = self._shared.get(agent_number)
        if cached is None or now - cached[0] > AGENT_CACHE_SECONDS:
            if len(self._shared) > 10_000:
                self._shared.clear()
            cached = self._shared[agent_number] = (now, self._lookup(agent_number))
        return cached[1]

    @classmethod
    def prefetch(cls, agent_numbers: set[str]) -> None:
        """Look up, in two queries, the agents of a batch this process does not know yet."""
        now = time.monotonic()
        wanted = {n for n in agent_numbers if n and (n not in cls._shared or now - cls._shared[n][0] > AGENT_CACHE_SECONDS)}
        if not wanted:
            return
        digits = {n: "".join(c for c in n if c.isdigit()) for n in wanted}
        names = wanted | {d for d in digits.values() if d}
        lines: dict[str, tuple[int, int]] = {}  # agent id or extension → (line pk, user), the first line wins as in _lookup
        for pk, agent_id, extension, user_id in (
            AgentLine.objects.filter(Q(agent_id__in=names) | Q(extension__in=names)).order_by("pk").values_list("pk", "agent_id", "extension", "user_id")
        ):
            for name in (agent_id, extension):
                if name:
                    lines.setdefault(name, (pk, user_id))
        found = {}
        for number in wanted:
            candidates = [lines[name] for name in {number, digits[number]} if name in lines]
            if candidates and min(candidates)[1]:
                found[number] = min(candidates)[1]
        by_phone = {n: e for n in wanted - set(found) if (e := phones.try_e164(n))}
        if by_phone:
            users = {}
            for phone, pk in User.objects.filter(phone__in=set(by_phone.values()), is_active=True).values_list("phone", "pk"):
                users.setdefault(phone, pk)
            found.update((n, users.get(e)) for n, e in by_phone.items())
        if len(cls._shared) > 10_000:
            cls._shared.clear()
        for number in wanted:
            cls._shared[number] = (now, found.get(number))

    @classmethod
    def forget(cls, **kwargs) -> None:
        """A line or a user changed (signals, TelephonyConfig.ready): this process reads agents again."""
        cls._shared.clear()

    @staticmethod
    def _lookup(agent_number: str) -> int | None:
        digits = "".join(c for c in agent_number if c.isdigit())
        rule = Q(agent_id=agent_number) | Q(extension=agent_number)
        if digits and digits != agent_number:
            rule |= Q(agent_id=digits) | Q(extension=digits)
        line = AgentLine.objects.filter(rule).values_list("user_id", flat=True).first()
        if line:
            return line
        number = phones.try_e164(agent_number)
        if number:
            return User.objects.filter(phone=number, is_active=True).values_list("pk", flat=True).first()
        return None
