"""The Redis transport with non-transactional acknowledgement bookkeeping (shared/broker.py), on a real
Redis: a delivered message is tracked until acknowledged, an unacknowledged one goes back to its queue
when its consumer goes away; the bookkeeping pipeline is not a transaction."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis as redis_lib
from kombu import Connection

from shared.broker import TRANSPORT
from tests.e2e.stack import leased_redis_dbs


@pytest.fixture
def broker(redis_url: str) -> Iterator[str]:
    with leased_redis_dbs(redis_url, 1) as (url,):
        yield url


def test_delivery_is_tracked_until_acked_without_transactions(broker: str) -> None:
    client = redis_lib.Redis.from_url(broker)
    with Connection(broker, transport=TRANSPORT) as conn:
        conn.SimpleQueue("lean").put({"item": 1})
        simple = conn.SimpleQueue("lean", no_ack=False)
        message = simple.get(timeout=5)
        assert message.payload == {"item": 1}
        assert client.hlen("unacked") == 1 and client.zcard("unacked_index") == 1
        message.ack()
        assert client.hlen("unacked") == 0 and client.zcard("unacked_index") == 0
        with simple.channel.qos.pipe_or_acquire() as pipe:
            assert pipe.transaction is False  # the bookkeeping pairs go without MULTI/EXEC
        simple.close()
    client.close()


def test_unacked_message_returns_to_its_queue_when_the_consumer_goes(broker: str) -> None:
    client = redis_lib.Redis.from_url(broker)
    with Connection(broker, transport=TRANSPORT) as conn:
        conn.SimpleQueue("lean").put({"item": 2})
        simple = conn.SimpleQueue("lean", no_ack=False)
        assert simple.get(timeout=5).payload == {"item": 2}
        assert client.llen("lean") == 0
        simple.close()
        conn.release()
    assert client.llen("lean") == 1 and client.hlen("unacked") == 0
    with Connection(broker, transport=TRANSPORT) as conn:
        again = conn.SimpleQueue("lean", no_ack=False)
        message = again.get(timeout=5)
        assert message.payload == {"item": 2}
        message.ack()
        again.close()
    client.close()
