"""Django's Redis cache backend with its client built once per connection pool.

Django's ``RedisCacheClient.get_client`` makes a new ``redis.Redis`` for every cache call
(``redis.Redis.__init__`` sets up its response callbacks each time): a page that reads the
cache four times paid for four clients. A ``redis.Redis`` only holds its pool and is safe to
share between threads (each command takes a connection from the pool), so one per pool is
kept. The pool itself is Django's, unchanged (and redis-py's pool notices a fork)."""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        django: Any = self  # the parent's private attributes, which django-stubs leaves out
        index = django._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            pool = django._pools.get(index)
            if pool is None:
                pool = django._pool_class.from_url(django._servers[index], **django._pool_options)
                django._pools[index] = pool
            client = django._client(connection_pool=pool)
            self._clients[index] = client
        return client


class RedisCache(DjangoRedisCache):
    """``django.core.cache.backends.redis.RedisCache`` with ``RedisCacheClient`` above."""

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
