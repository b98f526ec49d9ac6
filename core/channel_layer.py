"""channels_redis' layer, with one addition: sending an event to several groups from sync code.

`group_send` is a coroutine costing four round trips to Redis per group (drop expired members, read
the members, drop expired messages, push), and an inbox event goes to two or three groups (staff, the
team, the assignee). Events are published from sync code (views, Celery tasks), which has no event
loop for channels_redis' connections. `group_send_many` runs on a plain redis-py client instead: one
script reads every group's members, a second pushes to every channel; `send_many` does the same for
several events at once (a drain's batch: two round trips, not two per event). A browser in several of the
groups (a supervisor who is also in the team) gets the event once instead of once per group.

It relies on two helpers of channels_redis 4.3 (`_group_key`, `_map_channel_keys_to_connection`),
so the version is pinned in requirements.txt; tests/core/test_channel_layer.py runs against Redis.
"""

import logging
import time
from collections import defaultdict

import redis
import redis.sentinel
from channels_redis.core import RedisChannelLayer

logger = logging.getLogger(__name__)

# A publish waits at most this long for Redis: a hung server must not hang the request or task.
SOCKET_TIMEOUT_SECONDS = 5

# KEYS: group keys. ARGV[1]: members added before this time have expired. Returns each group's members.
_MEMBERS = """
local members = {}
for i = 1, #KEYS do
    redis.call('ZREMRANGEBYSCORE', KEYS[i], 0, ARGV[1])
    members[i] = redis.call('ZRANGE', KEYS[i], 0, -1)
end
return members
"""

# KEYS: channel keys, one per message (a key repeats for a second message). ARGV: the messages, their
# capacities, their scores (rising, so a channel reads them in the order sent), then the oldest score
# kept and the expiry. What channels_redis does per group, with its separate expiry pipeline folded in.
_PUSH = """
local count = #KEYS
local oldest = tonumber(ARGV[3 * count + 1])
local expiry = tonumber(ARGV[3 * count + 2])
local over_capacity = 0
for i = 1, count do
    redis.call('ZREMRANGEBYSCORE', KEYS[i], 0, oldest)
    if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[count + i]) then
        redis.call('ZADD', KEYS[i], ARGV[2 * count + i], ARGV[i])
        redis.call('EXPIRE', KEYS[i], expiry)
    else
        over_capacity = over_capacity + 1
    end
end
return over_capacity
"""


class GroupsRedisChannelLayer(RedisChannelLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # redis-py pools are thread-safe and start over in a forked child (Celery's prefork pool).
        self._sync_clients = [redis.Redis(connection_pool=_sync_pool(host)) for host in self.hosts]

    def group_send_many(self, groups, message: dict) -> None:
        """Send `message` once to every channel that is in at least one of `groups` (blocking)."""
        self.send_many([(groups, message)])

    def send_many(self, sends: list[tuple[list[str], dict]]) -> None:
        """Each (groups, message) as group_send_many would, all in two scripts per Redis shard: one reads
        the members of every group named, one pushes every message (a drain's batch of events)."""
        members = self._members({group for groups, _ in sends for group in groups})
        pushes = defaultdict(lambda: ([], [], []))  # shard → (keys, messages, capacities)
        for groups, message in sends:
            channels = set().union(*(members[group] for group in groups))
            if not channels:
                continue
            channel_keys, messages, capacities = self._map_channel_keys_to_connection(sorted(channels), message)
            for index, keys in channel_keys.items():
                shard = pushes[index]
                shard[0].extend(keys)
                shard[1].extend(messages[key] for key in keys)
                shard[2].extend(capacities[key] for key in keys)
        now = time.time()
        microseconds = int(now * 1_000_000)
        for index, (keys, messages, capacities) in pushes.items():
            # Whole microseconds, written exactly: a float sum rounded to 6 places gave two neighbours one score.
            scores = ["%d.%06d" % divmod(microseconds + position, 1_000_000) for position in range(len(keys))]
            over_capacity = self._sync_clients[index].eval(
                _PUSH, len(keys), *keys, *messages, *capacities, *scores, int(now) - self.expiry, self.expiry
            )
            if over_capacity:
                logger.info("%s of %s messages over their channel's capacity", over_capacity, len(keys))

    def _members(self, groups) -> dict[str, set[str]]:
        keys_by_shard = defaultdict(list)  # Redis shard → its groups
        for group in sorted(groups):
            assert self.require_valid_group_name(group), "Group name not valid"
            keys_by_shard[self.consistent_hash(group)].append(group)
        expired_before = int(time.time()) - self.group_expiry
        members = {}
        for index, shard_groups in keys_by_shard.items():
            keys = [self._group_key(group) for group in shard_groups]
            found = self._sync_clients[index].eval(_MEMBERS, len(keys), *keys, expired_before)
            members.update((group, {member.decode() for member in channels}) for group, channels in zip(shard_groups, found))
        return members


def _sync_pool(host: dict) -> redis.ConnectionPool:
    """channels_redis.utils.create_pool, for redis-py's blocking client. The hosts' own read timeout is
    for the layer's blocking receive (config/settings.py); a publish never waits that long."""
    host = {**host, "socket_timeout": SOCKET_TIMEOUT_SECONDS, "socket_connect_timeout": SOCKET_TIMEOUT_SECONDS}
    if "address" in host:
        return redis.ConnectionPool.from_url(host.pop("address"), **host)
    if "master_name" in host:
        sentinel = redis.sentinel.Sentinel(host.pop("sentinels"), sentinel_kwargs=host.pop("sentinel_kwargs", None))
        return redis.sentinel.SentinelConnectionPool(host.pop("master_name"), sentinel, **host)
    return redis.ConnectionPool(**host)
