"""confluent-kafka's transactional producer against the broker under test.

Usage: python3 pytxn.py BOOTSTRAP TOPIC

Commits 5 records (c0..c4) to partition 0 of TOPIC in a transaction,
aborts 3 (a0..a2), then opens a third (one record, "zombie") and lets a
second producer with the same transactional.id fence it: the first
producer's commit must fail with a fatal error. Then reads the partition
as a read_committed and a read_uncommitted consumer, to its end. Prints
one line per step (see itest/transactions_test.go for the expected
output); any failure to meet a deadline exits non-zero.
"""

import sys

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition, OFFSET_BEGINNING

DEADLINE = 30

boot, topic = sys.argv[1], sys.argv[2]


def producer():
    return Producer({"bootstrap.servers": boot, "transactional.id": "ck-txn",
                     "transaction.timeout.ms": 10000, "linger.ms": 0})


p = producer()
p.init_transactions(DEADLINE)
p.begin_transaction()
for i in range(5):
    p.produce(topic, value=("c%d" % i).encode(), partition=0)
p.commit_transaction(DEADLINE)
print("committed 5")

p.begin_transaction()
for i in range(3):
    p.produce(topic, value=("a%d" % i).encode(), partition=0)
p.flush(DEADLINE)  # in the log, not purged by the abort
p.abort_transaction(DEADLINE)
print("aborted 3")

p.begin_transaction()
p.produce(topic, value=b"zombie", partition=0)
p.flush(DEADLINE)
p2 = producer()
p2.init_transactions(DEADLINE)  # aborts the open transaction, fences p
try:
    p.commit_transaction(DEADLINE)
    print("fenced NOT: the commit succeeded")
except KafkaException as e:
    err = e.args[0]
    print("fenced ok" if err.fatal() else "fenced other: %s" % err)


def read(isolation):
    c = Consumer({"bootstrap.servers": boot, "group.id": "unused", "isolation.level": isolation,
                  "enable.partition.eof": True, "enable.auto.commit": False})
    c.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
    vals = []
    while True:
        m = c.poll(DEADLINE)
        if m is None:
            sys.exit("%s: no message nor end of partition within %ds" % (isolation, DEADLINE))
        if m.error():
            if m.error().code() == KafkaError._PARTITION_EOF:
                break
            sys.exit("%s: %s" % (isolation, m.error()))
        vals.append(m.value().decode())
    c.close()
    return vals


rc = read("read_committed")
print("read_committed %d %s" % (len(rc), "..".join([rc[0], rc[-1]]) if rc else ""))
print("read_uncommitted %d" % len(read("read_uncommitted")))
