import threading

import pytest
from django.core.cache import caches

from core.cache import SharedPoolRedisCache


@pytest.mark.skipif(not isinstance(caches["default"], SharedPoolRedisCache), reason="the Redis cache (REDIS_URL set)")
def test_every_thread_uses_the_process_connection_pool():
    pools = []

    def use_cache():
        cache = caches["default"]
        cache.add("sampark-test-shared-pool", 1, timeout=5)
        pools.append(cache._cache._get_connection_pool(write=True))

    threads = [threading.Thread(target=use_cache) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    use_cache()
    caches["default"].delete("sampark-test-shared-pool")
    assert len({id(pool) for pool in pools}) == 1
