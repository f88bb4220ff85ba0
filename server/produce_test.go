package server

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"samsa/record"
)

// TestCompactedTopicRefusesKeylessRecords: as in Kafka, a record without a
// key is refused with INVALID_RECORD on a topic whose cleanup.policy
// includes compact (compaction could never keep it), whatever the batch's
// codec; keyed records and keyless ones on other topics are appended.
func TestCompactedTopicRefusesKeylessRecords(t *testing.T) {
	tb := startTestBroker(t, nil)
	mustCreate(tb, "compact-only", 1, map[string]string{"cleanup.policy": "compact"})
	mustCreate(tb, "compact-delete", 1, map[string]string{"cleanup.policy": "compact,delete"})
	mustCreate(tb, "delete-only", 1, nil)
	for _, c := range []struct {
		name  string
		codec kgo.CompressionCodec
	}{{"none", kgo.NoCompression()}, {"zstd", kgo.ZstdCompression()}} {
		cl := tb.client(kgo.ProducerBatchCompression(c.codec), kgo.RecordRetries(1))
		for _, topic := range []string{"compact-only", "compact-delete", "delete-only"} {
			keyed := &kgo.Record{Topic: topic, Key: []byte("k"), Value: []byte("v")}
			if err := cl.ProduceSync(tb.ctx(), keyed).FirstErr(); err != nil {
				t.Errorf("%s, %s: keyed record: %v", c.name, topic, err)
			}
			keyless := &kgo.Record{Topic: topic, Value: []byte("no key")}
			err := cl.ProduceSync(tb.ctx(), keyless).FirstErr()
			if topic == "delete-only" {
				if err != nil {
					t.Errorf("%s, %s: keyless record: %v", c.name, topic, err)
				}
			} else if !errors.Is(err, kerr.InvalidRecord) {
				t.Errorf("%s, %s: keyless record: %v, want INVALID_RECORD", c.name, topic, err)
			}
		}
		cl.Close()
	}
	// Only what was accepted is in the logs: two keyed records each, and
	// the keyless ones on the delete topic.
	for topic, want := range map[string]int64{"compact-only": 2, "compact-delete": 2, "delete-only": 4} {
		if end := tb.topic(topic).Parts[0].Log.EndOffset(); end != want {
			t.Errorf("%s ends at %d, want %d", topic, end, want)
		}
	}
}

// TestProduceRecordErrors (KIP-467): a batch refused because of particular
// records names each of them in Produce v8+ record_errors, with its index
// in the batch and Kafka's message, beside the partition's error and
// error_message; nothing of the batch is appended. A timestamp error makes
// the batch INVALID_TIMESTAMP. Below v8 only the code remains. franz-go
// fails the batch's records with the partition's code.
func TestProduceRecordErrors(t *testing.T) {
	tb := startTestBroker(t, nil)
	mustCreate(tb, "keys", 1, map[string]string{"cleanup.policy": "compact"})
	mustCreate(tb, "times", 1, map[string]string{"message.timestamp.difference.max.ms": "60000"})
	now := time.Now().UnixMilli()
	build := func(recs ...[2]any) []byte { // {key, timestamp offset from now}
		b := record.NewBuilder(now)
		for _, r := range recs {
			b.Add(now+r[1].(int64), r[0].([]byte), []byte("v"))
		}
		batch, _ := b.AppendTo(nil)
		return batch
	}
	k := []byte("k")
	const hour = int64(3600_000)
	produce := func(v int16, topic string, batch []byte) kmsg.ProduceResponseTopicPartition {
		req := kmsg.NewPtrProduceRequest()
		req.Acks, req.TimeoutMillis = -1, 5000
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = topic
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = batch
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		return tb.request(v, req).(*kmsg.ProduceResponse).Topics[0].Partitions[0]
	}
	recErrs := func(sp kmsg.ProduceResponseTopicPartition) string {
		var s []string
		for _, r := range sp.ErrorRecords {
			s = append(s, fmt.Sprintf("%d: %s", r.RelativeOffset, *r.ErrorMessage))
		}
		return strings.Join(s, "\n")
	}
	noKey := "Compacted topic cannot accept message without key in topic partition keys-0"

	for _, v := range []int16{8, 9} {
		sp := produce(v, "keys", build([2]any{k, int64(0)}, [2]any{[]byte(nil), int64(0)}, [2]any{k, int64(0)}, [2]any{[]byte(nil), int64(0)}))
		if sp.ErrorCode != kerr.InvalidRecord.Code || sp.BaseOffset != -1 {
			t.Fatalf("v%d keys: code %d base %d", v, sp.ErrorCode, sp.BaseOffset)
		}
		if got, want := recErrs(sp), "1: "+noKey+"\n3: "+noKey; got != want {
			t.Fatalf("v%d keys: record errors\n%s\nwant\n%s", v, got, want)
		}
		wantMsg := fmt.Sprintf("One or more records have been rejected due to 2 record errors in total, and only showing the first three errors at most: [RecordError(batchIndex=1, message='%s'), RecordError(batchIndex=3, message='%s')]", noKey, noKey)
		if sp.ErrorMessage == nil || *sp.ErrorMessage != wantMsg {
			t.Fatalf("v%d keys: error message %v\nwant %s", v, sp.ErrorMessage, wantMsg)
		}

		// A timestamp out of range anywhere makes the batch INVALID_TIMESTAMP;
		// a keyless record of a non-compacted topic is fine.
		sp = produce(v, "times", build([2]any{k, int64(0)}, [2]any{[]byte(nil), -2 * hour}, [2]any{k, int64(0)}))
		if sp.ErrorCode != kerr.InvalidTimestamp.Code || len(sp.ErrorRecords) != 1 || sp.ErrorRecords[0].RelativeOffset != 1 {
			t.Fatalf("v%d times: code %d, record errors %s", v, sp.ErrorCode, recErrs(sp))
		}
		if m := *sp.ErrorRecords[0].ErrorMessage; !strings.HasPrefix(m, fmt.Sprintf("Timestamp %d of message with offset 1 is out of range. The timestamp should be within [", now-2*hour)) {
			t.Fatalf("v%d times: record error %q", v, m)
		}
		if m := sp.ErrorMessage; m == nil || *m != "One or more records have been rejected due to invalid timestamp" {
			t.Fatalf("v%d times: error message %v", v, m)
		}
	}
	// v7 has no record_errors: the code says it all.
	if sp := produce(7, "keys", build([2]any{[]byte(nil), int64(0)})); sp.ErrorCode != kerr.InvalidRecord.Code || len(sp.ErrorRecords) != 0 {
		t.Fatalf("v7: code %d, record errors %s", sp.ErrorCode, recErrs(sp))
	}
	for _, topic := range []string{"keys", "times"} {
		if end := tb.topic(topic).Parts[0].Log.EndOffset(); end != 0 {
			t.Fatalf("%s: refused batches appended, end offset %d", topic, end)
		}
	}

	// franz-go, batching a good and a bad record together: both fail with
	// the batch's code; alone, the good one goes through.
	cl := tb.client(kgo.ProducerLinger(50*time.Millisecond), kgo.RecordRetries(1))
	defer cl.Close()
	for topic, c := range map[string]struct {
		bad  *kgo.Record
		want error
	}{
		"keys":  {&kgo.Record{Topic: "keys", Value: []byte("no key")}, kerr.InvalidRecord},
		"times": {&kgo.Record{Topic: "times", Value: []byte("old"), Timestamp: time.Now().Add(-2 * time.Hour)}, kerr.InvalidTimestamp},
	} {
		good := &kgo.Record{Topic: topic, Key: k, Value: []byte("good")}
		res := cl.ProduceSync(tb.ctx(), good, c.bad)
		for _, r := range res {
			if !errors.Is(r.Err, c.want) {
				t.Errorf("%s: %q: %v, want %v", topic, r.Record.Value, r.Err, c.want)
			}
		}
		good = &kgo.Record{Topic: topic, Key: k, Value: []byte("good")}
		if err := cl.ProduceSync(tb.ctx(), good).FirstErr(); err != nil {
			t.Errorf("%s: good record alone: %v", topic, err)
		}
	}
}
