"""A token bucket per business number, so sends stay within the provider's throughput.

Meta gives each number 80 messages/s by default (1,000 for upgraded numbers; over it: error 130429).
`acquire(channel_id)` takes one token and returns 0, or returns how many seconds to wait before a
token is free. With REDIS_URL the bucket lives in Redis (one atomic Lua script), shared by every
worker; on embedded defaults it lives in this process.
"""

import threading
import time

from django.conf import settings

_LUA = """
local key = KEYS[1]
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', key, 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local ts = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = (1 - tokens) / rate
end
redis.call('HSET', key, 'tokens', tokens, 'ts', now)
redis.call('EXPIRE', key, math.ceil(capacity / rate) + 10)
return tostring(wait)
"""


def rate_per_second() -> float:
    return float(settings.OUTBOUND_RATE_PER_SECOND)


class LocalBucket:
    def __init__(self):
        self._lock = threading.Lock()
        self._state: dict[str, tuple[float, float]] = {}

    def take(self, key: str, rate: float, capacity: float, now: float) -> float:
        with self._lock:
            tokens, ts = self._state.get(key, (capacity, now))
            tokens = min(capacity, tokens + max(0.0, now - ts) * rate)
            if tokens >= 1:
                self._state[key] = (tokens - 1, now)
                return 0.0
            self._state[key] = (tokens, now)
            return (1 - tokens) / rate


_local = LocalBucket()
_redis = None
_script = None


def _redis_script():
    global _redis, _script
    if _script is None:
        import redis

        _redis = redis.Redis.from_url(settings.REDIS_URL)
        _script = _redis.register_script(_LUA)
    return _script


def acquire(channel_id: int, *, rate: float | None = None, now: float | None = None) -> float:
    """Take a token for one send on this number: 0.0, or the seconds to wait before trying again."""
    rate = rate or rate_per_second()
    capacity = max(1.0, rate)  # a burst of at most one second's worth
    now = time.time() if now is None else now
    key = f"{settings.CHANNELS_PREFIX}:ratelimit:channel:{channel_id}"
    if settings.REDIS_URL:
        try:
            return float(_redis_script()(keys=[key], args=[rate, capacity, now]))
        except Exception:  # Redis down: fall back to this process's bucket rather than stop sending
            pass
    return _local.take(key, rate, capacity, now)
