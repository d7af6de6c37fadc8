"""A lock so that only one scheduler enqueues at a time, across processes and hosts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis

_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end"


@contextmanager
def single_instance(client: redis.Redis | None, name: str, *, ttl: float) -> Iterator[bool]:
    """Yield True if this process holds lock `name` (released on exit, or expired after `ttl`
    seconds if the holder dies), False if another holds it. Without Redis (embedded) always True."""
    if client is None:
        yield True
        return
    key, token = f"newsflow:lock:{name}", uuid.uuid4().hex
    acquired = bool(client.set(key, token, nx=True, px=max(1, int(ttl * 1000))))
    try:
        yield acquired
    finally:
        if acquired:
            client.eval(_RELEASE, 1, key, token)
