package itest

import (
	"bytes"
	"errors"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestTopicConfigsTakeEffect: topic configs set at creation or changed
// later act on the running broker at once: size limits, timestamps,
// segment rolling and retention.
func TestTopicConfigsTakeEffect(t *testing.T) {
	b := startBroker(t, "log.retention.check.interval.ms=100")
	b.needAPIs(t, keyCreateTopics, keyIncrementalAlterConfigs, keyDescribeConfigs)
	adm := b.admin(t)
	set := func(t *testing.T, topic, key, value string) {
		t.Helper()
		rs, err := adm.AlterTopicConfigs(ctx(t), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: key, Value: kadm.StringPtr(value)}}, topic)
		if err != nil || rs[0].Err != nil {
			t.Fatalf("set %s=%s on %s: %v %v", key, value, topic, err, rs)
		}
	}

	t.Run("max.message.bytes", func(t *testing.T) {
		const topic = "cfg.max"
		b.newTopic(t, topic, 1, nil)
		conn := b.dial(t)
		recs := simpleRecords(1, "big")
		recs[0].Value = make([]byte, 2000)
		batch := recordBatch(batchSpec{records: recs})
		if code, _ := conn.produceCode(t, 9, topic, 0, batch); code != 0 {
			t.Fatalf("2000-byte batch under the default limit: error %d", code)
		}
		set(t, topic, "max.message.bytes", "1000")
		if code, _ := conn.produceCode(t, 9, topic, 0, batch); code != kerr.MessageTooLarge.Code {
			t.Fatalf("2000-byte batch over max.message.bytes=1000: error %d, want MESSAGE_TOO_LARGE", code)
		}
		err := b.client(t).ProduceSync(ctx(t), &kgo.Record{Topic: topic, Value: make([]byte, 2000)}).FirstErr()
		if !errors.Is(err, kerr.MessageTooLarge) {
			t.Fatalf("franz-go producing 2000 bytes: %v, want MESSAGE_TOO_LARGE", err)
		}
	})

	t.Run("message.timestamp.type=LogAppendTime", func(t *testing.T) {
		const topic = "cfg.logappend"
		b.newTopic(t, topic, 1, map[string]*string{"message.timestamp.type": kadm.StringPtr("LogAppendTime")})
		before := time.Now().Add(-time.Second)
		old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
		produceSync(t, b.client(t), &kgo.Record{Topic: topic, Value: []byte("x"), Timestamp: old})
		after := time.Now().Add(time.Second)
		got := b.consumeAll(t, topic)
		if len(got) != 1 || got[0].Timestamp.Before(before) || got[0].Timestamp.After(after) || got[0].Attrs.TimestampType() != 1 {
			t.Fatalf("record timestamp %v (type %d), want the broker's append time (type 1)", got[0].Timestamp, got[0].Attrs.TimestampType())
		}
		// kcat sees it as a log-append-time record too.
		recs := parseKcatJSON(t, runCmd(t, nil, needKcat(t), "-C", "-b", b.addr, "-t", topic, "-o", "beginning", "-e", "-J", "-q"))
		if len(recs) != 1 || recs[0].Timestamp != got[0].Timestamp.UnixMilli() {
			t.Fatalf("kcat reads %+v", recs)
		}
	})

	t.Run("message.timestamp.difference.max.ms", func(t *testing.T) {
		const topic = "cfg.tsdiff"
		b.newTopic(t, topic, 1, map[string]*string{"message.timestamp.difference.max.ms": kadm.StringPtr("60000")})
		err := b.client(t).ProduceSync(ctx(t), &kgo.Record{Topic: topic, Value: []byte("old"), Timestamp: time.Now().Add(-time.Hour)}).FirstErr()
		if !errors.Is(err, kerr.InvalidTimestamp) {
			t.Fatalf("an hour-old timestamp with a one-minute limit: %v, want INVALID_TIMESTAMP", err)
		}
		produceSync(t, b.client(t), &kgo.Record{Topic: topic, Value: []byte("now")})
	})

	t.Run("segment.bytes and retention.ms", func(t *testing.T) {
		const topic = "cfg.retention"
		b.newTopic(t, topic, 1, map[string]*string{"segment.bytes": kadm.StringPtr("1024")})
		cl := b.client(t)
		for i := range 20 {
			produceSync(t, cl, &kgo.Record{Topic: topic, Value: bytes.Repeat([]byte{byte('a' + i)}, 300)})
		}
		segs, _ := filepath.Glob(filepath.Join(b.dir, topic+"-0", "*.log"))
		if len(segs) < 5 {
			t.Fatalf("%d segments of 20 batches of ~370 bytes with segment.bytes=1024", len(segs))
		}
		set(t, topic, "retention.ms", "1")
		// The retention check runs every 100 ms: every segment goes (as in
		// Kafka, an expired active segment is rolled and deleted too).
		var start int64
		for deadline := time.Now().Add(10 * time.Second); ; {
			starts, err := adm.ListStartOffsets(ctx(t), topic)
			if err != nil {
				t.Fatal(err)
			}
			s, _ := starts.Lookup(topic, 0)
			if start = s.Offset; start > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("log start offset still 0 10s after retention.ms=1")
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Logf("retention moved the log start to %d of 20", start)
		// Keep new records from expiring at once, then check that what is
		// left is read from the new start and new records continue at 20.
		set(t, topic, "retention.ms", "604800000")
		if recs := produceSync(t, cl, &kgo.Record{Topic: topic, Value: []byte("new")}); recs[0].Offset != 20 {
			t.Fatalf("produce after retention got offset %d, want 20", recs[0].Offset)
		}
		got := b.consumeAll(t, topic)
		if len(got) == 0 || got[0].Offset < start || got[len(got)-1].Offset != 20 || int64(len(got)) != 21-got[0].Offset {
			t.Fatalf("after retention (log start %d): %d records", start, len(got))
		}
	})

	t.Run("retention.bytes", func(t *testing.T) {
		const topic = "cfg.retention.bytes"
		b.newTopic(t, topic, 1, map[string]*string{"segment.bytes": kadm.StringPtr("1024")})
		cl := b.client(t)
		for i := range 20 {
			produceSync(t, cl, &kgo.Record{Topic: topic, Value: bytes.Repeat([]byte(strconv.Itoa(i%10)), 300)})
		}
		set(t, topic, "retention.bytes", "2048")
		for deadline := time.Now().Add(10 * time.Second); ; {
			if size := segmentBytes(t, b, topic, 0); size <= 2048+1024 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("partition still holds %d bytes 10s after retention.bytes=2048", segmentBytes(t, b, topic, 0))
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
