package itest

// Keyed records with awkward bytes, and the check that a producer's
// partitioner kept each key in one partition, in order, byte for byte:
// shared by the kafka-go and kafkajs tests, whose producers choose the
// partitions themselves.

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// binRec is a record with its bytes as they are: null and empty differ.
type binRec struct {
	Partition int32
	Offset    int64
	Key       []byte
	Value     []byte
	Headers   []kgo.RecordHeader
}

func (r binRec) String() string {
	q := func(b []byte) string {
		if b == nil {
			return "<null>"
		}
		return strconv.Quote(string(b))
	}
	var hs []string
	for _, h := range r.Headers {
		hs = append(hs, h.Key+"="+q(h.Value))
	}
	return fmt.Sprintf("p%d@%d key=%s value=%s headers=[%s]", r.Partition, r.Offset, q(r.Key), q(r.Value), strings.Join(hs, " "))
}

// sameBytes is bytes.Equal that also tells null from empty.
func sameBytes(a, b []byte) bool {
	return (a == nil) == (b == nil) && bytes.Equal(a, b)
}

// equal compares everything, null against empty too.
func (r binRec) equal(o binRec) bool {
	if r.Partition != o.Partition || r.Offset != o.Offset || !sameBytes(r.Key, o.Key) || !sameBytes(r.Value, o.Value) ||
		len(r.Headers) != len(o.Headers) {
		return false
	}
	for i, h := range r.Headers {
		if h.Key != o.Headers[i].Key || !bytes.Equal(h.Value, o.Headers[i].Value) {
			return false
		}
	}
	return true
}

func binFromKgo(r *kgo.Record) binRec {
	return binRec{Partition: r.Partition, Offset: r.Offset, Key: r.Key, Value: r.Value, Headers: r.Headers}
}

// keyedRecords are keys × perKey keyed records, the perKey records of a
// key in order: values with a long compressible one, every byte value,
// an empty one and a null one (a tombstone); headers "i" (the record's
// index, which identifies it) and "dup" twice, once with binary bytes.
// Partition and offset are -1: the producer's partitioner chooses.
func keyedRecords(tag string, keys, perKey int) []binRec {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	var out []binRec
	for j := range perKey {
		for k := range keys {
			key := fmt.Sprintf("%s-key-%02d", tag, k)
			v := []byte(fmt.Sprintf("%s #%d: grüße ✓", key, j))
			switch (k + j) % 6 {
			case 1:
				v = append(v, strings.Repeat(" compressible", 200)...)
			case 2:
				v = append(v, all...)
			case 3:
				v = []byte{}
			case 4:
				v = nil
			}
			out = append(out, binRec{
				Partition: -1,
				Offset:    -1,
				Key:       []byte(key),
				Value:     v,
				Headers: []kgo.RecordHeader{
					{Key: "i", Value: []byte(strconv.Itoa(len(out)))},
					{Key: "dup", Value: []byte("1")},
					{Key: "dup", Value: all[:k+1]},
				},
			})
		}
	}
	return out
}

// checkKeyed checks the records read back (got, from consumeAll) against
// those a producer sent, in order, with a key partitioner: the same
// records byte for byte, each in partition part(key), each key's in the
// order sent; and the keys spread over more than one partition. It
// returns the sent records as read, partition and offset filled in.
func checkKeyed(t testing.TB, got []*kgo.Record, sent []binRec, part func(key []byte) int32) []binRec {
	t.Helper()
	if len(got) != len(sent) {
		t.Fatalf("read %d records, sent %d", len(got), len(sent))
	}
	byIndex := map[string]binRec{}
	for _, r := range got {
		if len(r.Headers) == 0 || r.Headers[0].Key != "i" {
			t.Fatalf("record without its index header: %v", binFromKgo(r))
		}
		byIndex[string(r.Headers[0].Value)] = binFromKgo(r)
	}
	out := make([]binRec, len(sent))
	last := map[string]int64{}
	used := map[int32]bool{}
	for i, s := range sent {
		g, ok := byIndex[strconv.Itoa(i)]
		if !ok {
			t.Fatalf("record %d (%v) not read", i, s)
		}
		want := s
		want.Partition, want.Offset = part(s.Key), g.Offset
		if !g.equal(want) {
			t.Fatalf("record %d:\n got %v\nwant %v", i, g, want)
		}
		if prev, ok := last[string(s.Key)]; ok && g.Offset <= prev {
			t.Fatalf("record %d of key %q at offset %d, after one at %d: out of order", i, s.Key, g.Offset, prev)
		}
		last[string(s.Key)] = g.Offset
		used[g.Partition] = true
		out[i] = g
	}
	if len(used) < 2 {
		t.Fatalf("every key went to partitions %v: the test needs them spread", used)
	}
	return out
}
