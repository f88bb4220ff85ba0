"""Compressing Python producers for the samsa compression tests.

Usage: python3 compression_pyclient.py COMMAND BOOTSTRAP TOPIC CODEC < records.json

Commands:
  kp-produce   kafka-python, compression_type=CODEC (its snappy is
               xerial-framed), acks=all, one request in flight
  ck-produce   confluent-kafka (librdkafka), compression.codec=CODEC,
               enable.idempotence=true

stdin is a list of records {"partition", "key", "value", "headers": [[k, v],
...]}; stdout is the delivery reports, [{"partition", "offset"}], in input
order. Keys, values and header values are UTF-8 strings (null for null).
A missing codec library or any undelivered record exits non-zero with the
reason on stderr.
"""

import json
import sys

DEADLINE = 30  # seconds for any one wait
LINGER_MS = 20  # so that batches hold several records and compress


def enc(s):
    return None if s is None else s.encode("utf-8")


def kp_produce(bootstrap, topic, codec):
    from kafka import KafkaProducer

    recs = json.load(sys.stdin)
    p = KafkaProducer(bootstrap_servers=bootstrap, acks="all", retries=0,
                      linger_ms=LINGER_MS, compression_type=codec,
                      max_in_flight_requests_per_connection=1)
    futs = [p.send(topic, key=enc(r.get("key")), value=enc(r.get("value")),
                   partition=r["partition"],
                   headers=[(k, enc(v)) for k, v in r.get("headers") or []])
            for r in recs]
    p.flush(DEADLINE)
    reports = []
    for f in futs:
        md = f.get(timeout=DEADLINE)
        reports.append({"partition": md.partition, "offset": md.offset})
    p.close(DEADLINE)
    json.dump(reports, sys.stdout)


def ck_produce(bootstrap, topic, codec):
    from confluent_kafka import Producer

    recs = json.load(sys.stdin)
    p = Producer({"bootstrap.servers": bootstrap, "acks": "all",
                  "enable.idempotence": True, "compression.codec": codec,
                  "linger.ms": LINGER_MS})
    reports = [None] * len(recs)
    errors = []

    def report(i):
        def cb(err, msg):
            if err is not None:
                errors.append(str(err))
            else:
                reports[i] = {"partition": msg.partition(), "offset": msg.offset()}
        return cb

    for i, r in enumerate(recs):
        p.produce(topic, key=enc(r.get("key")), value=enc(r.get("value")),
                  partition=r["partition"],
                  headers=[(k, enc(v)) for k, v in r.get("headers") or []],
                  on_delivery=report(i))
        p.poll(0)
    left = p.flush(DEADLINE)
    if left or errors or None in reports:
        sys.exit("ck-produce: %d undelivered, errors %s" % (left, errors))
    json.dump(reports, sys.stdout)


COMMANDS = {"kp-produce": kp_produce, "ck-produce": ck_produce}

if __name__ == "__main__":
    COMMANDS[sys.argv[1]](*sys.argv[2:])
