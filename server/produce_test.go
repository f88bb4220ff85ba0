package server

import (
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
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
