"""Python Kafka clients for the samsa integration tests.

Usage: python3 pyclient.py COMMAND BOOTSTRAP [ARGS...] < input.json

Commands (kp-* use kafka-python, ck-* use confluent-kafka):
  kp-produce, ck-produce TOPIC           stdin: a list of records
      {"partition", "key", "value", "headers": [[k, v], ...], "timestamp"};
      stdout: the delivery reports, [{"partition", "offset"}], in input order.
      A partition of -1 (or none) leaves the choice to the client's
      partitioner: kafka-python's default (murmur2 of the key, random for
      a null key), or for confluent-kafka the one CK_PARTITIONER names,
      without sticky partitioning (librdkafka's default otherwise)
  kp-consume, ck-consume TOPIC PARTS N   read N records from the beginning of
      partitions 0..PARTS-1 (assigned, no group); stdout: the records
  kp-metadata, ck-metadata TOPIC         stdout: brokers and the topic's
      partitions with their leaders
  kp-offsets TOPIC PARTITION TS          stdout: beginning, end, and
      offsets_for_times(TS)
  kp-admin                               stdin: a list of operations (see
      admin_op); stdout: one result per operation

TLS: SSL_CAFILE (the CA's PEM) makes both clients connect with
security.protocol SSL; SSL_CERTFILE and SSL_KEYFILE (PEM) add a client
certificate (mTLS). SASL: SASL_MECHANISM (PLAIN, SCRAM-SHA-256,
SCRAM-SHA-512), SASL_USERNAME and SASL_PASSWORD make them authenticate,
over SASL_SSL with SSL_CAFILE, SASL_PLAINTEXT without.

Keys, values and header values are UTF-8 strings in JSON (null for null).
Every failure to meet a deadline exits non-zero with a message on stderr.
"""

import json
import os
import sys
import time

DEADLINE = 30  # seconds for any one wait


def enc(s):
    return None if s is None else s.encode("utf-8")


def dec(b):
    return None if b is None else b.decode("utf-8")


def kp_opts():
    """kafka-python options: KP_API_VERSION=0.11.0 pins the protocol
    versions the client uses instead of probing the broker. The probe's
    default 2 s limit is too tight on a loaded 2-core machine."""
    v = os.environ.get("KP_API_VERSION")
    opts = {"api_version_auto_timeout_ms": 15000}
    if v:
        opts = {"api_version": tuple(int(x) for x in v.split("."))}
    if os.environ.get("SSL_CAFILE"):
        opts.update(security_protocol="SSL", ssl_cafile=os.environ["SSL_CAFILE"])
        if os.environ.get("SSL_CERTFILE"):
            opts.update(ssl_certfile=os.environ["SSL_CERTFILE"], ssl_keyfile=os.environ["SSL_KEYFILE"])
    if os.environ.get("SASL_MECHANISM"):
        opts.update(security_protocol="SASL_SSL" if os.environ.get("SSL_CAFILE") else "SASL_PLAINTEXT",
                    sasl_mechanism=os.environ["SASL_MECHANISM"],
                    sasl_plain_username=os.environ["SASL_USERNAME"],
                    sasl_plain_password=os.environ["SASL_PASSWORD"])
    return opts


def ck_opts(conf):
    """conf with the TLS settings of the environment (librdkafka's names)."""
    if os.environ.get("SSL_CAFILE"):
        conf["security.protocol"] = "SSL"
        conf["ssl.ca.location"] = os.environ["SSL_CAFILE"]
        if os.environ.get("SSL_CERTFILE"):
            conf["ssl.certificate.location"] = os.environ["SSL_CERTFILE"]
            conf["ssl.key.location"] = os.environ["SSL_KEYFILE"]
    if os.environ.get("SASL_MECHANISM"):
        conf["security.protocol"] = "SASL_SSL" if os.environ.get("SSL_CAFILE") else "SASL_PLAINTEXT"
        conf["sasl.mechanisms"] = os.environ["SASL_MECHANISM"]
        conf["sasl.username"] = os.environ["SASL_USERNAME"]
        conf["sasl.password"] = os.environ["SASL_PASSWORD"]
    return conf


def partition_of(r):
    """The record's partition, None for the partitioner's choice."""
    p = r.get("partition")
    return None if p is None or p < 0 else p


def out(v):
    json.dump(v, sys.stdout)
    sys.stdout.write("\n")


# ---- kafka-python


def kp_produce(bootstrap, topic):
    from kafka import KafkaProducer

    recs = json.load(sys.stdin)
    p = KafkaProducer(bootstrap_servers=bootstrap, acks="all", retries=0,
                      linger_ms=0, max_in_flight_requests_per_connection=1, **kp_opts())
    futs = []
    for r in recs:
        futs.append(p.send(topic, key=enc(r.get("key")), value=enc(r.get("value")),
                           partition=partition_of(r),
                           headers=[(k, enc(v)) for k, v in r.get("headers") or []],
                           timestamp_ms=r.get("timestamp")))
    p.flush(DEADLINE)
    reports = []
    for f in futs:
        md = f.get(timeout=DEADLINE)
        reports.append({"partition": md.partition, "offset": md.offset})
    p.close()
    out(reports)


def kp_consume(bootstrap, topic, parts, n):
    from kafka import KafkaConsumer, TopicPartition

    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                      enable_auto_commit=False, auto_offset_reset="earliest", **kp_opts())
    tps = [TopicPartition(topic, p) for p in range(int(parts))]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    got = []
    deadline = time.time() + DEADLINE
    while len(got) < int(n):
        if time.time() > deadline:
            sys.exit("kp-consume: %d of %s records before the deadline" % (len(got), n))
        for _tp, msgs in c.poll(timeout_ms=500).items():
            for m in msgs:
                got.append({"partition": m.partition, "offset": m.offset,
                            "key": dec(m.key), "value": dec(m.value),
                            "headers": [[k, dec(v)] for k, v in m.headers],
                            "timestamp": m.timestamp})
    c.close()
    out(got)


def kp_metadata(bootstrap, topic):
    from kafka import KafkaConsumer, TopicPartition

    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, **kp_opts())
    deadline = time.time() + DEADLINE
    parts = c.partitions_for_topic(topic)
    while parts is None:
        if time.time() > deadline:
            sys.exit("kp-metadata: topic %s not in metadata" % topic)
        time.sleep(0.1)
        parts = c.partitions_for_topic(topic)
    cluster = c._client.cluster
    leaders = {str(p): cluster.leader_for_partition(TopicPartition(topic, p)) for p in parts}
    brokers = [{"id": b.nodeId, "host": b.host, "port": b.port} for b in cluster.brokers()]
    c.close()
    out({"partitions": sorted(parts), "leaders": leaders, "brokers": brokers})


def kp_offsets(bootstrap, topic, partition, ts):
    from kafka import KafkaConsumer, TopicPartition

    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, **kp_opts())
    tp = TopicPartition(topic, int(partition))
    res = {
        "beginning": c.beginning_offsets([tp])[tp],
        "end": c.end_offsets([tp])[tp],
    }
    ot = c.offsets_for_times({tp: int(ts)})[tp]
    res["for_time"] = None if ot is None else {"offset": ot.offset, "timestamp": ot.timestamp}
    c.close()
    out(res)


def admin_op(adm, op):
    """Runs one admin operation; the result names the exception, if any."""
    from kafka.admin import ConfigResource, ConfigResourceType, NewPartitions, NewTopic

    kind = op["op"]
    if kind == "create":
        adm.create_topics([NewTopic(op["name"], op["partitions"], op["rf"],
                                    topic_configs=op.get("configs") or {})],
                          validate_only=op.get("validate_only", False))
        return {}
    if kind == "delete":
        adm.delete_topics([op["name"]])
        return {}
    if kind == "create_partitions":
        adm.create_partitions({op["name"]: NewPartitions(op["count"])})
        return {}
    if kind == "list":
        return {"topics": sorted(adm.list_topics())}
    if kind == "describe_topics":
        return {"topics": [{"topic": t["topic"], "error_code": t["error_code"],
                            "partitions": sorted(p["partition"] for p in t["partitions"])}
                           for t in adm.describe_topics(op["names"])]}
    if kind == "describe_cluster":
        c = adm.describe_cluster()
        return {"cluster_id": c.get("cluster_id"), "controller_id": c.get("controller_id"),
                "brokers": [{"id": b["node_id"], "host": b["host"], "port": b["port"]} for b in c["brokers"]]}
    if kind == "describe_configs":
        rtype = ConfigResourceType.BROKER if op.get("broker") else ConfigResourceType.TOPIC
        keys = op.get("keys")
        resps = adm.describe_configs([ConfigResource(rtype, op["name"], {k: None for k in keys} if keys else None)])
        res = {}
        for r in resps:
            for (err, msg, _rt, name, entries) in r.resources:
                res["error_code"] = err
                res["configs"] = {e[0]: e[1] for e in entries}
        return res
    if kind == "alter_configs":
        r = adm.alter_configs([ConfigResource(ConfigResourceType.TOPIC, op["name"], op["configs"])])
        return {"error_codes": [res[0] for res in r.resources]}
    raise ValueError("unknown op " + kind)


def kp_admin(bootstrap):
    from kafka.admin import KafkaAdminClient

    ops = json.load(sys.stdin)
    adm = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10000, **kp_opts())
    results = []
    for op in ops:
        try:
            r = admin_op(adm, op)
            r["error"] = None
        except Exception as e:  # the test compares the error's class name
            r = {"error": type(e).__name__, "message": str(e)[:500]}
        results.append(r)
    adm.close()
    out(results)


# ---- confluent-kafka (librdkafka)


def ck_produce(bootstrap, topic):
    from confluent_kafka import Producer

    recs = json.load(sys.stdin)
    conf = {"bootstrap.servers": bootstrap, "acks": "all",
            "enable.idempotence": False, "linger.ms": 0,
            "max.in.flight.requests.per.connection": 1}
    if os.environ.get("CK_PARTITIONER"):
        conf["partitioner"] = os.environ["CK_PARTITIONER"]
        # Null keys at random per record, not stuck to one partition for
        # a linger period (librdkafka's sticky partitioning).
        conf["sticky.partitioning.linger.ms"] = 0
    p = Producer(ck_opts(conf))
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
        kw = {}
        if r.get("timestamp") is not None:
            kw["timestamp"] = r["timestamp"]
        if partition_of(r) is not None:
            kw["partition"] = r["partition"]
        p.produce(topic, key=enc(r.get("key")), value=enc(r.get("value")),
                  headers=[(k, enc(v)) for k, v in r.get("headers") or []],
                  on_delivery=report(i), **kw)
        p.poll(0)
    left = p.flush(DEADLINE)
    if left or errors or None in reports:
        sys.exit("ck-produce: %d undelivered, errors %s" % (left, errors))
    out(reports)


def ck_consume(bootstrap, topic, parts, n):
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

    c = Consumer(ck_opts({"bootstrap.servers": bootstrap, "group.id": "samsa-itest",
                          "enable.auto.commit": False, "enable.auto.offset.store": False}))
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(int(parts))])
    got = []
    deadline = time.time() + DEADLINE
    while len(got) < int(n):
        if time.time() > deadline:
            sys.exit("ck-consume: %d of %s records before the deadline" % (len(got), n))
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            sys.exit("ck-consume: %s" % m.error())
        got.append({"partition": m.partition(), "offset": m.offset(),
                    "key": dec(m.key()), "value": dec(m.value()),
                    "headers": [[k, dec(v)] for k, v in m.headers() or []],
                    "timestamp": m.timestamp()[1]})
    c.close()
    out(got)


def ck_metadata(bootstrap, topic):
    from confluent_kafka.admin import AdminClient

    a = AdminClient(ck_opts({"bootstrap.servers": bootstrap}))
    md = a.list_topics(topic=topic, timeout=DEADLINE)
    t = md.topics[topic]
    if t.error is not None:
        sys.exit("ck-metadata: %s" % t.error)
    out({"partitions": sorted(t.partitions),
         "leaders": {str(p): pm.leader for p, pm in t.partitions.items()},
         "brokers": [{"id": b.id, "host": b.host, "port": b.port} for b in md.brokers.values()]})


COMMANDS = {
    "kp-produce": kp_produce,
    "kp-consume": kp_consume,
    "kp-metadata": kp_metadata,
    "kp-offsets": kp_offsets,
    "kp-admin": kp_admin,
    "ck-produce": ck_produce,
    "ck-consume": ck_consume,
    "ck-metadata": ck_metadata,
}

if __name__ == "__main__":
    COMMANDS[sys.argv[1]](*sys.argv[2:])
