"""The Redis transport with one-command acknowledgement bookkeeping (shared/broker.py), on a real Redis:
a delivered message is tracked until acknowledged (one HSET, one HDEL, no index), an unacknowledged one
goes back to its queue when its consumer goes away, and the periodic restore requeues deliveries older
than the visibility timeout, stock kombu's entries (timed in the index) included."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import redis as redis_lib
from kombu import Connection

from shared.broker import TRANSPORT, read_entry
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
        assert client.hlen("unacked") == 1 and client.zcard("unacked_index") == 0
        ((_, entry),) = client.hgetall("unacked").items()
        payload, exchange, routing_key, delivered_at = read_entry(entry)
        assert (exchange, routing_key) == ("lean", "lean")
        assert payload["properties"]["delivery_tag"] == message.delivery_tag
        assert abs(delivered_at - time.time()) < 60
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


def test_restore_requeues_only_deliveries_older_than_the_visibility_timeout(broker: str) -> None:
    client = redis_lib.Redis.from_url(broker)
    with Connection(broker, transport=TRANSPORT, transport_options={"visibility_timeout": 30}) as conn:
        for item in ("old", "legacy", "new"):
            conn.SimpleQueue("lean").put({"item": item})
        consumer = conn.SimpleQueue("lean", no_ack=False)
        old, legacy, new = (consumer.get(timeout=5) for _ in range(3))
        assert [m.payload["item"] for m in (old, legacy, new)] == ["old", "legacy", "new"]
        # The first delivery was made 31 s ago (its entry says so); the second is a stock kombu entry
        # (three fields) timed 31 s ago in the index; the third is recent.
        fields = json.loads(client.hget("unacked", old.delivery_tag))
        client.hset("unacked", old.delivery_tag, json.dumps([*fields[:3], fields[3] - 31]))
        fields = json.loads(client.hget("unacked", legacy.delivery_tag))
        client.hset("unacked", legacy.delivery_tag, json.dumps(fields[:3]))
        client.zadd("unacked_index", {legacy.delivery_tag: time.time() - 31})
        consumer.channel.qos.restore_visible(num=10, interval=1)
        assert client.llen("lean") == 2
        assert client.hkeys("unacked") == [new.delivery_tag.encode()]
        assert client.zcard("unacked_index") == 0
        again = sorted(consumer.get(timeout=5).payload["item"] for _ in range(2))
        assert again == ["legacy", "old"]
        consumer.close()
    client.close()
