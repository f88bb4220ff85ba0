"""Consumer-group members for the samsa integration tests.

Usage: python3 pygroup.py CLIENT BOOTSTRAP GROUP TOPIC MEMBERS PARTS TOTAL

CLIENT is kp (kafka-python) or ck (confluent-kafka). MEMBERS consumers,
each on its own thread, subscribe to TOPIC in GROUP (range assignment,
3 s session timeout, no auto-commit). Once their assignments split the
PARTS partitions with no overlap and no gap, the script prints "ready"
(MEMBERS = 0 skips this), then polls until the members together read
TOTAL records, commits synchronously, closes every consumer and prints
one JSON line:

  {"members": [{"assigned": [p, ...], "records": [[p, offset, value], ...]}]}

Every wait is bounded; a missed deadline exits non-zero with a message on
stderr.
"""

import json
import sys
import threading
import time

DEADLINE = 30  # seconds for any one phase


def kp_consumer(bootstrap, group, topic):
    from kafka import KafkaConsumer
    from kafka.coordinator.assignors.range import RangePartitionAssignor

    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, client_id="pygroup-kp",
                      enable_auto_commit=False, auto_offset_reset="earliest",
                      session_timeout_ms=3000, heartbeat_interval_ms=300,
                      max_poll_interval_ms=10000,
                      partition_assignment_strategy=[RangePartitionAssignor])
    c.subscribe([topic])

    def poll():
        out = []
        for _tp, msgs in c.poll(timeout_ms=100).items():
            for m in msgs:
                out.append([m.partition, m.offset, m.value.decode("utf-8")])
        return out

    def assigned():
        return sorted(tp.partition for tp in c.assignment())

    def commit():
        c.commit()

    return poll, assigned, commit, c.close


def ck_consumer(bootstrap, group, topic):
    from confluent_kafka import Consumer

    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "client.id": "pygroup-ck",
                  "enable.auto.commit": False, "auto.offset.reset": "earliest",
                  "session.timeout.ms": 3000, "heartbeat.interval.ms": 300,
                  "max.poll.interval.ms": 10000,
                  "partition.assignment.strategy": "range"})
    c.subscribe([topic])

    def poll():
        m = c.poll(0.1)
        if m is None:
            return []
        if m.error():
            if m.error().code() == -191:  # _PARTITION_EOF
                return []
            raise RuntimeError(str(m.error()))
        return [[m.partition(), m.offset(), m.value().decode("utf-8")]]

    def assigned():
        return sorted(tp.partition for tp in c.assignment())

    def commit():
        if c.assignment():
            c.commit(asynchronous=False)

    return poll, assigned, commit, c.close


def main():
    client, bootstrap, group, topic, members, parts, total = sys.argv[1:8]
    members, parts, total = int(members), int(parts), int(total)
    make = {"kp": kp_consumer, "ck": ck_consumer}[client]
    n = max(members, 1)
    lock = threading.Lock()
    state = {"phase": "join", "got": 0, "error": None}
    assigned = [[] for _ in range(n)]
    records = [[] for _ in range(n)]
    done = threading.Event()
    barrier = threading.Barrier(n)

    def run(i):
        try:
            poll, get_assigned, commit, close = make(bootstrap, group, topic)
            while not done.is_set():
                recs = poll()
                with lock:
                    assigned[i] = get_assigned()
                    if recs and state["phase"] == "join" and members > 0:
                        state["error"] = "member %d read %d records before the group settled" % (i, len(recs))
                        done.set()
                    records[i].extend(recs)
                    state["got"] += len(recs)
                    if state["phase"] == "consume" and state["got"] >= total:
                        done.set()
            commit()
            # Nobody leaves before everyone committed: a leave would
            # rebalance, and a member given another's partitions would
            # read them again from the last commit.
            barrier.wait(DEADLINE)
            close()
        except Exception as e:  # reported by the main thread
            with lock:
                state["error"] = "member %d: %r" % (i, e)
            done.set()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()

    if members > 0:
        deadline = time.time() + DEADLINE
        while True:
            with lock:
                flat = [p for a in assigned for p in a]
                split = all(assigned) and sorted(flat) == list(range(parts))
                if split or state["error"]:
                    break
            if time.time() > deadline:
                sys.exit("pygroup: members never split the partitions: %r" % assigned)
            time.sleep(0.05)
    with lock:
        state["phase"] = "consume"
        if state["got"] >= total:
            done.set()
    print("ready", flush=True)

    if not done.wait(DEADLINE):
        sys.exit("pygroup: read %d of %d records before the deadline" % (state["got"], total))
    for t in threads:
        t.join(DEADLINE)
    if state["error"]:
        sys.exit("pygroup: " + state["error"])
    json.dump({"members": [{"assigned": assigned[i], "records": records[i]} for i in range(n)]}, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
