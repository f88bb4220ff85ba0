package itest

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// timedTopic produces ten records to partition 0 of a new topic with
// timestamps base+i*1000 ms, except record 7, which has the largest
// timestamp, base+100000, out of order. It returns base. Records 0-4 and
// 5-9 go in separate produce calls, so the log has more than one batch.
func timedTopic(t *testing.T, b *broker, topic string) int64 {
	t.Helper()
	b.newTopic(t, topic, 1, nil)
	base := time.Now().Add(-time.Hour).UnixMilli()
	cl := b.client(t)
	var recs []*kgo.Record
	for i := range 10 {
		ts := base + int64(i)*1000
		if i == 7 {
			ts = base + 100000
		}
		recs = append(recs, &kgo.Record{Topic: topic, Value: []byte("r" + strconv.Itoa(i)), Timestamp: time.UnixMilli(ts)})
	}
	produceSync(t, cl, recs[:5]...)
	produceSync(t, cl, recs[5:]...)
	return base
}

// listOffsetsRequest asks at version v for one partition at timestamp ts.
func listOffsetsRequest(v int16, topic string, partition int32, ts int64) *kmsg.ListOffsetsRequest {
	req := kmsg.NewPtrListOffsetsRequest()
	req.SetVersion(v)
	req.ReplicaID = -1
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Partition = partition
	rp.Timestamp = ts
	rp.MaxNumOffsets = 10
	rp.CurrentLeaderEpoch = -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

func listOffsets(t *testing.T, conn *rawConn, v int16, topic string, partition int32, ts int64) kmsg.ListOffsetsResponseTopicPartition {
	t.Helper()
	resp := conn.roundTrip(t, listOffsetsRequest(v, topic, partition, ts)).(*kmsg.ListOffsetsResponse)
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		t.Fatalf("ListOffsets v%d: %d topics", v, len(resp.Topics))
	}
	return resp.Topics[0].Partitions[0]
}

// TestListOffsetsRaw checks every version and special timestamp with
// requests built by hand: earliest (-2), latest (-1), max timestamp (-3,
// v7, KIP-734), and timestamps before, inside and after the log.
func TestListOffsetsRaw(t *testing.T) {
	b := startBroker(t)
	const topic = "lo.raw"
	base := timedTopic(t, b, topic)
	conn := b.dial(t)

	for v := int16(0); v <= 7; v++ {
		t.Run("v"+strconv.Itoa(int(v)), func(t *testing.T) {
			type q struct {
				ts       int64
				off, rts int64 // expected offset and timestamp (v1+)
			}
			cases := []q{
				{-2, 0, -1},
				{-1, 10, -1},
			}
			if v >= 1 {
				cases = append(cases,
					q{base - 5000, 0, base},
					q{base + 5500, 6, base + 6000},
					// The first record at or after base+8500 is record 7
					// (base+100000), before records 8 and 9.
					q{base + 8500, 7, base + 100000},
					q{base + 100000, 7, base + 100000},
					q{base + 100001, -1, -1},
				)
			}
			if v >= 7 {
				cases = append(cases, q{-3, 7, base + 100000})
			}
			for _, c := range cases {
				p := listOffsets(t, conn, v, topic, 0, c.ts)
				if p.ErrorCode != 0 {
					t.Errorf("ts %d: error %d", c.ts, p.ErrorCode)
					continue
				}
				if v == 0 {
					// v0 answers with the old offsets array, newest first.
					if len(p.OldStyleOffsets) == 0 || p.OldStyleOffsets[0] != c.off {
						t.Errorf("v0 ts %d: offsets %v, want %d first", c.ts, p.OldStyleOffsets, c.off)
					}
					continue
				}
				if p.Offset != c.off || p.Timestamp != c.rts {
					t.Errorf("ts %d: offset %d timestamp %d, want %d and %d", c.ts, p.Offset, p.Timestamp, c.off, c.rts)
				}
				if v >= 4 && p.LeaderEpoch < 0 {
					t.Errorf("ts %d: leader epoch %d", c.ts, p.LeaderEpoch)
				}
			}
			// An unknown partition and an unknown topic.
			if p := listOffsets(t, conn, v, topic, 5, -1); p.ErrorCode != kerr.UnknownTopicOrPartition.Code {
				t.Errorf("partition 5: error %d, want %d", p.ErrorCode, kerr.UnknownTopicOrPartition.Code)
			}
			if p := listOffsets(t, conn, v, "lo.nope", 0, -1); p.ErrorCode != kerr.UnknownTopicOrPartition.Code {
				t.Errorf("unknown topic: error %d, want %d", p.ErrorCode, kerr.UnknownTopicOrPartition.Code)
			}
		})
	}
}

// TestListOffsetsMaxTimestampInBatch: KIP-734's max timestamp (-3) names
// the record with the largest timestamp, not the batch's last record. One
// hand-made batch of three records with timestamps T, T+100, T+50: the
// answer is offset 1 with T+100 (Kafka 3.x; KAFKA-16310 fixed the same
// mistake in Kafka 3.7.0).
func TestListOffsetsMaxTimestampInBatch(t *testing.T) {
	b := startBroker(t)
	const topic = "lo.maxts"
	b.newTopic(t, topic, 1, nil)
	ts := time.Now().Add(-time.Minute).UnixMilli()
	recs := simpleRecords(3, "m")
	recs[1].TimestampDelta64, recs[2].TimestampDelta64 = 100, 50
	conn := b.dial(t)
	if code, base := conn.produceCode(t, 9, topic, 0, recordBatch(batchSpec{records: recs, firstTS: ts, maxTS: ts + 100})); code != 0 || base != 0 {
		t.Fatalf("produce: error %d base offset %d", code, base)
	}
	p := listOffsets(t, conn, 7, topic, 0, -3)
	if p.ErrorCode != 0 || p.Offset != 1 || p.Timestamp != ts+100 {
		t.Fatalf("ListOffsets v7 timestamp -3: offset %d timestamp %d (error %d), want offset 1 timestamp %d", p.Offset, p.Timestamp, p.ErrorCode, ts+100)
	}
	// The timestamp lookups within the batch for comparison: these are right.
	for _, c := range []struct{ ts, off int64 }{{ts, 0}, {ts + 1, 1}, {ts + 100, 1}} {
		if p := listOffsets(t, conn, 7, topic, 0, c.ts); p.Offset != c.off {
			t.Errorf("timestamp %d: offset %d, want %d", c.ts, p.Offset, c.off)
		}
	}
}

// TestListOffsetsClients asks the clients' own APIs: kadm, kafka-python's
// offsets_for_times and beginning/end offsets, and kcat -o s@TS.
func TestListOffsetsClients(t *testing.T) {
	b := startBroker(t)
	const topic = "lo.clients"
	base := timedTopic(t, b, topic)

	t.Run("franz-go", func(t *testing.T) {
		t.Parallel()
		adm := b.admin(t)
		starts, err := adm.ListStartOffsets(ctx(t), topic)
		if err != nil {
			t.Fatal(err)
		}
		ends, err := adm.ListEndOffsets(ctx(t), topic)
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := starts.Lookup(topic, 0); s.Err != nil || s.Offset != 0 {
			t.Errorf("start offset %d (%v), want 0", s.Offset, s.Err)
		}
		if e, _ := ends.Lookup(topic, 0); e.Err != nil || e.Offset != 10 {
			t.Errorf("end offset %d (%v), want 10", e.Offset, e.Err)
		}
		after, err := adm.ListOffsetsAfterMilli(ctx(t), base+5500, topic)
		if err != nil {
			t.Fatal(err)
		}
		if a, _ := after.Lookup(topic, 0); a.Err != nil || a.Offset != 6 || a.Timestamp != base+6000 {
			t.Errorf("after base+5500: offset %d timestamp %d (%v), want 6 at %d", a.Offset, a.Timestamp, a.Err, base+6000)
		}
		maxTs, err := adm.ListMaxTimestampOffsets(ctx(t), topic)
		if err != nil {
			t.Fatal(err)
		}
		if m, _ := maxTs.Lookup(topic, 0); m.Err != nil || m.Offset != 7 || m.Timestamp != base+100000 {
			t.Errorf("max timestamp: offset %d timestamp %d (%v), want 7 at %d", m.Offset, m.Timestamp, m.Err, base+100000)
		}
	})

	t.Run("kafka-python", func(t *testing.T) {
		t.Parallel()
		needPyClient(t, "kp")
		var got struct {
			Beginning int64 `json:"beginning"`
			End       int64 `json:"end"`
			ForTime   *struct {
				Offset    int64 `json:"offset"`
				Timestamp int64 `json:"timestamp"`
			} `json:"for_time"`
		}
		out := runPy(t, nil, "kp-offsets", b.addr, topic, "0", strconv.FormatInt(base+5500, 10))
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if got.Beginning != 0 || got.End != 10 {
			t.Errorf("beginning %d end %d, want 0 and 10", got.Beginning, got.End)
		}
		if got.ForTime == nil || got.ForTime.Offset != 6 || got.ForTime.Timestamp != base+6000 {
			t.Errorf("offsets_for_times(base+5500) = %+v, want offset 6 at %d", got.ForTime, base+6000)
		}
	})

	t.Run("kcat", func(t *testing.T) {
		t.Parallel()
		kcat := needKcat(t)
		out := runCmd(t, nil, kcat, "-C", "-b", b.addr, "-t", topic, "-p", "0", "-o", "s@"+strconv.FormatInt(base+5500, 10), "-e", "-J", "-q")
		recs := parseKcatJSON(t, out)
		if len(recs) != 4 {
			t.Fatalf("kcat -o s@ts read %d records, want 4 (offsets 6-9)", len(recs))
		}
		for i, r := range recs {
			if r.Offset != int64(6+i) || *r.Payload != "r"+strconv.Itoa(6+i) {
				t.Errorf("record %d: offset %d payload %q", i, r.Offset, *r.Payload)
			}
		}
		if recs[0].Timestamp != base+6000 {
			t.Errorf("first record's timestamp %d, want %d", recs[0].Timestamp, base+6000)
		}
	})
}
