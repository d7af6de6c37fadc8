"""The Redis broker transport, with lighter bookkeeping of unacknowledged messages.

kombu's Redis transport emulates acknowledgements: a delivered message is written to an `unacked` hash
and its time to an index (two commands), and the acknowledgement removes both (two more), each pair inside
MULTI/EXEC: four of the eleven Redis commands a task hop costs (BENCHMARKS.md). The pairs need no
transaction: the pipeline still sends each pair in one round trip, an entry is only ever restored once it
is older than the visibility timeout (an hour, long after its pair was written), and the restore itself
keeps its own WATCH/MULTI transaction, so a half-written pair at worst leaves an index entry without a
message (skipped by the restore) or a message whose late acknowledgement races its restore, as with
MULTI/EXEC. Delivery, acks_late and redelivery after a lost worker are unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kombu.transport import redis as kombu_redis

# The transport for `broker_transport` (shared.celery_app) when the broker URL is plain redis://.
TRANSPORT = "shared.broker:Transport"


class QoS(kombu_redis.QoS):
    """kombu's Redis QoS, writing and removing a delivery's bookkeeping without MULTI/EXEC."""

    @contextmanager
    def pipe_or_acquire(self, pipe: Any = None, client: Any = None) -> Iterator[Any]:
        """A non-transactional pipeline, unless the caller brings its own (the restore's transaction)."""
        if pipe is not None:
            yield pipe
            return
        with self.channel.conn_or_acquire(client) as conn:
            yield conn.pipeline(transaction=False)


class Channel(kombu_redis.Channel):
    """kombu's Redis channel with the QoS above."""

    QoS = QoS


class Transport(kombu_redis.Transport):
    """kombu's Redis transport with the channel above."""

    Channel = Channel
