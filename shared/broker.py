"""The Redis broker transport, with one Redis command of bookkeeping per delivery and one per ack.

kombu's Redis transport emulates acknowledgements: a delivered message is written to an `unacked` hash
and its delivery time to a sorted-set index (two commands, in MULTI/EXEC), and the acknowledgement
removes both (two more): with LPUSH and BRPOP, six of the commands every task hop costs. The index only
serves the periodic restore, which looks for deliveries older than the visibility timeout (an hour);
but the hash holds only messages in flight (at most prefetch x processes per worker), so the restore
can read their times from the hash itself. Here the delivery time travels inside the hash entry: a
delivery is one HSET, an ack one HDEL, and the restore scans the hash (every 100 s per worker: a few
entries) instead of ranging over the index. Entries written by stock kombu (three fields, timed in the
index) are still restored, so workers of both kinds can share one Redis during an upgrade. Delivery,
acks_late, the restore after the visibility timeout and redelivery after a lost worker are unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from time import time
from typing import Any

from kombu.transport import redis as kombu_redis
from kombu.transport import virtual
from kombu.utils.encoding import bytes_to_str
from kombu.utils.json import dumps, loads

# The transport for `broker_transport` (shared.celery_app) when the broker URL is plain redis://.
TRANSPORT = "shared.broker:Transport"


def unacked_entry(raw: Any, exchange: str, routing_key: str, delivered_at: float) -> str:
    """The `unacked` hash value of a delivery: kombu's three fields and the delivery time."""
    return dumps([raw, exchange, routing_key, delivered_at])


def read_entry(value: bytes | str) -> tuple[Any, str, str, float | None]:
    """(message, exchange, routing key, delivery time) of a hash value; no time for stock kombu's entries."""
    fields = loads(bytes_to_str(value))
    return fields[0], fields[1], fields[2], (fields[3] if len(fields) > 3 else None)


class QoS(kombu_redis.QoS):
    """kombu's Redis QoS with the delivery time in the `unacked` hash entry and no index."""

    def append(self, message: Any, delivery_tag: str) -> None:
        """Track a delivery until its ack: one HSET."""
        delivery = message.delivery_info
        entry = unacked_entry(message._raw, delivery["exchange"], delivery["routing_key"], time())
        with self.channel.conn_or_acquire() as client:
            client.hset(self.unacked_key, delivery_tag, entry)
        virtual.QoS.append(self, message, delivery_tag)

    @contextmanager
    def pipe_or_acquire(self, pipe: Any = None, client: Any = None) -> Iterator[Any]:
        """A non-transactional pipeline, unless the caller brings its own (the restore's transaction)."""
        if pipe is not None:
            yield pipe
            return
        with self.channel.conn_or_acquire(client) as conn:
            yield conn.pipeline(transaction=False)

    def _remove_from_indices(self, delivery_tag: str, pipe: Any = None) -> Any:
        """The ack's bookkeeping: one HDEL (kombu calls `.execute()` on what this returns)."""
        with self.pipe_or_acquire(pipe) as pipe:
            return pipe.hdel(self.unacked_key, delivery_tag)

    def restore_visible(self, start: int = 0, num: int | None = 10, interval: int = 10) -> None:
        """Put deliveries older than the visibility timeout back on their queues (every `interval`-th
        call, under kombu's mutex so that one worker at a time does it)."""
        self._vrestore_count += 1
        if (self._vrestore_count - 1) % (interval or 1):
            return
        with self.channel.conn_or_acquire() as client:
            ceil = time() - self.visibility_timeout
            try:
                with kombu_redis.Mutex(client, self.unacked_mutex_key, self.unacked_mutex_expire):
                    for tag in self._visible(client, ceil)[: num or None]:
                        self.restore_by_tag(tag, client)
            except kombu_redis.MutexHeld:
                pass

    def _visible(self, client: Any, ceil: float) -> list[bytes]:
        """Tags of deliveries made before `ceil`: timed in their entry, or (stock kombu's) in the index."""
        due = [
            tag
            for tag, value in client.hscan_iter(self.unacked_key)
            if (delivered := read_entry(value)[3]) is not None and delivered <= ceil
        ]
        legacy = client.zrange(self.unacked_index_key, ceil, 0, desc=True, byscore=True)
        return [*due, *legacy]

    def restore_by_tag(self, tag: Any, client: Any = None, leftmost: bool = False) -> None:
        """Requeue one tracked delivery and forget it, in one WATCH/MULTI transaction."""

        def restore_transaction(pipe: Any) -> None:
            value = pipe.hget(self.unacked_key, tag)
            pipe.multi()
            pipe.hdel(self.unacked_key, tag)
            pipe.zrem(self.unacked_index_key, tag)
            if value:
                message, exchange, routing_key, _ = read_entry(value)
                self.channel._do_restore_message(message, exchange, routing_key, pipe, leftmost)

        with self.channel.conn_or_acquire(client) as conn:
            conn.transaction(restore_transaction, self.unacked_key)


class Channel(kombu_redis.Channel):
    """kombu's Redis channel with the QoS above."""

    QoS = QoS

    def _restore(self, message: Any, leftmost: bool = False) -> None:
        """Requeue a delivered message (a reject with requeue, a shutdown): the QoS's transaction."""
        if not self.ack_emulation:
            return super()._restore(message)
        self.qos.restore_by_tag(message.delivery_tag, leftmost=leftmost)
        return None


class Transport(kombu_redis.Transport):
    """kombu's Redis transport with the channel above."""

    Channel = Channel
