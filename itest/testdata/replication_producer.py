"""A steady-rate idempotent acks=all producer (confluent-kafka, librdkafka)
for the replication tests: Kafka's VerifiableProducer, reduced.

Usage: python3 replication_producer.py BOOTSTRAP TOPIC PREFIX RATE

It produces values PREFIX-0, PREFIX-1, ... at RATE records a second,
spread over the topic's partitions by librdkafka's partitioner (no keys:
random), until its stdin closes; then it flushes (up to 60 s) and exits.
Every delivery report is one line on stdout, flushed at once:

  ok VALUE PARTITION OFFSET
  err VALUE ERROR_NAME

and the last line is "done SENT UNDELIVERED".
"""

import sys
import threading
import time

from confluent_kafka import Producer


def main(bootstrap, topic, prefix, rate):
    rate = float(rate)
    p = Producer({
        "bootstrap.servers": bootstrap,
        "acks": "all",
        "enable.idempotence": True,
        "linger.ms": 2,
        "message.timeout.ms": 120000,
        "topic.metadata.refresh.interval.ms": 1000,
        "retry.backoff.ms": 50,
        "reconnect.backoff.ms": 50,
        "reconnect.backoff.max.ms": 500,
    })
    lock = threading.Lock()

    def emit(line):
        with lock:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()

    def report(err, msg):
        v = msg.value().decode()
        if err is not None:
            emit("err %s %s" % (v, err.name()))
        else:
            emit("ok %s %d %d" % (v, msg.partition(), msg.offset()))

    stop = threading.Event()

    def wait_stdin():
        sys.stdin.read()
        stop.set()

    threading.Thread(target=wait_stdin, daemon=True).start()
    sent = 0
    start = time.monotonic()
    while not stop.is_set():
        due = start + sent / rate
        now = time.monotonic()
        if now < due:
            p.poll(min(due - now, 0.05))
            continue
        p.produce(topic, value=("%s-%d" % (prefix, sent)).encode(), on_delivery=report)
        sent += 1
        p.poll(0)
    left = p.flush(60)
    emit("done %d %d" % (sent, left))


if __name__ == "__main__":
    main(*sys.argv[1:])
