"""The Redis cache backend (``core.cache``): Django's, with one client per pool."""

from __future__ import annotations

import uuid

import pytest

from trefpunt.core.cache import RedisCache


def _cache() -> RedisCache:
    redis = pytest.importorskip("redis")
    url = "redis://127.0.0.1:6379/9"
    try:
        redis.Redis.from_url(url).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("needs Redis on 127.0.0.1:6379")
    return RedisCache(url, {"KEY_PREFIX": f"test-cache-{uuid.uuid4().hex}"})


def test_redis_cache_builds_one_client_and_works_as_djangos():
    cache = _cache()
    cache.set("a", {"x": 1}, 30)
    cache.set_many({"b": 2, "c": "three"}, 30)
    assert cache.get("a") == {"x": 1}
    assert cache.get_many(["a", "b", "c", "d"]) == {"a": {"x": 1}, "b": 2, "c": "three"}
    assert cache.incr("b") == 3
    assert cache.add("b", 9) is False
    cache.delete_many(["a", "b", "c"])
    assert cache.get("a") is None
    client = cache._cache.get_client()
    assert cache._cache.get_client(write=True) is client
    assert cache._cache.get_client("other-key") is client
